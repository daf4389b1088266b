import Foundation

/// Context-aware Tab completion for scimsh input, as a pure function of the line, the cursor and a context.
///
/// It reads only the text before the cursor, with a tolerant tokenizer of its own (incomplete strings, filters and
/// pipelines are normal here), finds the current statement and stage, and offers what fits the cursor's position:
///
/// | where | offered |
/// |---|---|
/// | start of a statement | statements and commands |
/// | after `\|`, `explain`, `let NAME =` | commands |
/// | `find`/`where` filter: expecting an attribute | attributes and `not`; inside `attr[...]` its sub-attributes |
/// | after an attribute in a filter | `co eq ew ge gt le lt ne pr sw` |
/// | a comparison value | `userName` → quoted user names seen, `id` → quoted ids, `active` → `false true` |
/// | after a complete comparison | `and`, `or` |
/// | a stage's arguments | what the kind of the argument at the cursor (its command's ``CommandSignature``) calls for |
/// | an attribute (`select`, `sort`, `lookup`), `ATTR=VALUE` (`create`) | attributes; after `ATTR=` a value |
/// | a sort direction | `desc` |
/// | a patch operation | attributes and `add`, `remove`, `replace`; after `ATTR=` a value |
/// | a user id (`get`, `delete`, `deactivate`, `patch ID`) | ids seen |
/// | `--` in a stage | the command's flags |
/// | `$...` anywhere, also inside `"..."` | variables |
/// | `source`, a file argument (`import`, `save`) | files from the context's lister |
/// | `help` | help topics |
/// | `set`, `unset` | variable names; `set output =` → formats, `set on_error =` → `continue stop` |
///
/// Names match the typed prefix ignoring case and are returned in their canonical spelling; candidates are sorted
/// and unique. Offsets are UTF-8 byte offsets (the unit of libedit's line buffer); a cursor inside a multi-byte
/// character is moved back to its start, one past the end to the end. Never traps, whatever the input.
public enum Completer {
    /// The candidates for the word ending at `cursor` (a UTF-8 offset into `line`) and that word's range.
    public static func complete(line: String, cursor: Int, context: CompletionContext) -> CompletionResult {
        let bytes = Array(line.utf8)
        var end = min(max(cursor, 0), bytes.count)
        while end > 0, end < bytes.count, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        var tokens = CompletionTokenizer.tokenize(Array(bytes[0..<end]))
        var word = CompletionToken(kind: .word, range: end..<end, text: "")
        if let last = tokens.last, last.range.upperBound == end {
            switch last.kind {
            case .comment:
                return CompletionResult(candidates: [], range: end..<end, position: .none)
            case .word, .string, .variable:
                word = last
                tokens.removeLast()
            default:
                break
            }
        }
        return Analysis(context: context, word: word).complete(after: tokens)
    }
}

/// One completion request: the word being completed and the context to draw candidates from.
private struct Analysis {
    let context: CompletionContext
    let word: CompletionToken

    // MARK: Statements

    func complete(after tokens: [CompletionToken]) -> CompletionResult {
        if word.kind == .variable {
            return variables(typed: word.text, start: word.range.lowerBound)
        }
        if case .string(quote: UInt8(ascii: "\""), terminated: false) = word.kind,
            let reference = trailingVariableReference(in: word.text)
        {
            return variables(typed: String(reference.text), start: word.range.lowerBound + reference.offset)
        }
        // The current statement: after the last `;` or newline (a newline after `|` continues the statement).
        var statement: [CompletionToken] = []
        for token in tokens {
            switch token.kind {
            case .comment: continue
            case .semicolon: statement = []
            case .newline where statement.last?.kind == .pipe: continue
            case .newline: statement = []
            default: statement.append(token)
            }
        }
        guard let first = statement.first else {
            return names(context.statements + context.commands, .statementStart)
        }
        let rest = statement.dropFirst()
        switch first.kind == .word ? first.text.lowercased() : "" {
        case "let":
            guard rest.count >= 2, rest[rest.startIndex].kind == .word,
                rest[rest.startIndex + 1].kind == .equals
            else { return nothing }
            return pipeline(rest.dropFirst(2), atStatementStart: false)
        case "explain":
            return pipeline(rest, atStatementStart: false)
        case "set":
            return setStatement(rest)
        case "unset":
            return rest.isEmpty ? names(context.variables, .settingName) : nothing
        case "source":
            return files()
        case "help":
            return rest.isEmpty ? names(context.helpTopics, .helpTopic) : nothing
        case "echo", "vars", "exit", "history":
            return nothing
        default:
            return pipeline(statement[...], atStatementStart: true)
        }
    }

    func setStatement(_ rest: ArraySlice<CompletionToken>) -> CompletionResult {
        if rest.isEmpty {
            return names(CompletionContext.settingNames + context.variables, .settingName)
        }
        let tokens = Array(rest)
        guard tokens.count == 2, tokens[0].kind == .word, tokens[1].kind == .equals else { return nothing }
        return names(CompletionContext.settingValues[tokens[0].text.lowercased()] ?? [], .settingValue)
    }

    // MARK: Stages

    func pipeline(_ tokens: ArraySlice<CompletionToken>, atStatementStart: Bool) -> CompletionResult {
        var stage = tokens
        var afterPipe = false
        if let pipe = tokens.lastIndex(where: { $0.kind == .pipe }) {
            stage = tokens[(pipe + 1)...]
            afterPipe = true
        }
        guard let command = stage.first else {
            if atStatementStart, !afterPipe {
                return names(context.statements + context.commands, .statementStart)
            }
            return names(context.commands, .stageStart)
        }
        guard command.kind == .word, let signature = context.signatures[command.text.lowercased()] else {
            return nothing
        }
        return arguments(stage.dropFirst(), signature, hasInput: afterPipe)
    }

    /// Completion of a stage's arguments from its command's signature: a flag's name or value, else what the
    /// kind of the positional argument at the cursor calls for.
    func arguments(
        _ tokens: ArraySlice<CompletionToken>, _ signature: CommandSignature, hasInput: Bool
    ) -> CompletionResult {
        let valued = signature.syntax.valuedFlags
        if word.kind == .word, word.text.hasPrefix("-") {
            return names(signature.flags.map { "--" + $0.name }, .flag)
        }
        if let last = tokens.last, last.kind == .word, last.text.hasPrefix("--"),
            valued.contains(String(last.text.dropFirst(2)).lowercased())
        {
            return nothing  // the value of a flag such as --limit N
        }
        let positionals = signature.positionals(hasInput: hasInput)
        if let filter = positionals.first(where: { $0.kind == .filter }) {
            return complete(filter.kind, tokens, valuedFlags: valued)
        }
        // Count the arguments before the cursor: `ATTR=VALUE` and `attr[...]` are one each, flags none.
        var count = 0
        var depth = 0
        var skipNext = false
        for (index, token) in zip(tokens.indices, tokens) {
            if skipNext {
                skipNext = false
                continue
            }
            switch token.kind {
            case .openBracket: depth += 1
            case .closeBracket: depth = max(0, depth - 1)
            case .word where token.text.hasPrefix("--"):
                skipNext = valued.contains(String(token.text.dropFirst(2)).lowercased())
            case .word, .string, .variable:
                let afterEquals = index > tokens.startIndex && tokens[index - 1].kind == .equals
                if depth == 0, !afterEquals { count += 1 }
            default: break
            }
        }
        // Inside `attr[` or after `ATTR=`, the cursor is still in the last argument, and that is one about attributes
        // (`patch active=` gives no id).
        let inAttribute = unclosedBracket(in: tokens) != nil || tokens.last?.kind == .equals
        if inAttribute { count -= 1 }
        guard !positionals.isEmpty, count >= 0 else { return nothing }
        var index = count
        if signature.repeatsPositionals {
            index %= positionals.count
        } else if let repeated = positionals.firstIndex(where: \.isRepeated) {
            index = min(index, repeated)
        }
        let attributeKinds: [ArgumentType] = [.attribute, .assignment, .patchOperation]
        if inAttribute {
            index =
                positionals[min(index, positionals.count)...].firstIndex { attributeKinds.contains($0.kind) } ?? index
        }
        guard index < positionals.count else { return nothing }
        return complete(positionals[index].kind, tokens, valuedFlags: valued)
    }

    /// What an argument of `kind` offers.
    func complete(_ kind: ArgumentType, _ tokens: ArraySlice<CompletionToken>, valuedFlags: Set<String>)
        -> CompletionResult
    {
        switch kind {
        case .filter: return filter(tokens, parent: nil, valuedFlags: valuedFlags)
        case .attribute: return attributeList(tokens, position: .attribute, extra: [])
        case .assignment: return attributeList(tokens, position: .attribute, extra: ["email"])
        case .patchOperation:
            return attributeList(tokens, position: .patchOperation, extra: ["add", "remove", "replace"])
        case .id: return values(context.knownIds, alwaysQuoted: false, position: .userId)
        case .file: return files()
        case .profile: return names(context.profileNames, .profileName)
        case .direction: return names(["desc"], .sortDirection)
        case .oneOf(let words): return names(words, .keyword)
        case .number, .value, .groupName: return nothing
        }
    }

    /// Arguments that are attributes or `ATTR=VALUE` pairs (`select`, `patch`, `create`), with `attr[filter]`.
    func attributeList(
        _ arguments: ArraySlice<CompletionToken>,
        position: CompletionResult.Position,
        extra: [String]
    ) -> CompletionResult {
        if let open = unclosedBracket(in: arguments) {
            let parent = open > arguments.startIndex ? arguments[open - 1].text : ""
            return filter(arguments[(open + 1)...], parent: parent)
        }
        if let last = arguments.last, last.kind == .equals {
            let attribute = arguments.dropLast().last?.text ?? ""
            return booleanValues(for: attribute, position: .assignmentValue)
        }
        return names(context.attributes + extra, position)
    }

    // MARK: Filters

    private enum FilterState {
        case attribute, afterNot, comparisonOperator(String), value(String), logical
    }

    /// Completion inside a SCIM filter; `parent` is the attribute whose `[...]` the filter is in, if any.
    func filter(
        _ tokens: ArraySlice<CompletionToken>, parent: String?, valuedFlags: Set<String> = []
    ) -> CompletionResult {
        var state = FilterState.attribute
        var parents: [String?] = [parent]
        var lastAttribute = ""
        var skipNext = false
        for token in tokens {
            if skipNext {
                skipNext = false
                continue
            }
            switch token.kind {
            case .openParen:
                state = .attribute
                continue
            case .closeParen:
                state = .logical
                continue
            case .openBracket:
                parents.append(lastAttribute)
                state = .attribute
                continue
            case .closeBracket:
                if parents.count > 1 { parents.removeLast() }
                state = .logical
                continue
            case .word where token.text.hasPrefix("--"):
                // `find --limit N`: a flag and its value are not part of the filter.
                skipNext = valuedFlags.contains(String(token.text.dropFirst(2)).lowercased())
                continue
            default:
                break
            }
            switch state {
            case .attribute where token.isWord("not"):
                state = .afterNot
            case .attribute, .afterNot:
                lastAttribute = token.text
                state = .comparisonOperator(token.text)
            case .comparisonOperator(let attribute):
                state = token.isWord("pr") ? .logical : .value(attribute)
            case .value:
                state = .logical
            case .logical:
                if token.isWord("and") || token.isWord("or") {
                    state = .attribute
                } else {
                    lastAttribute = token.text
                    state = .comparisonOperator(token.text)
                }
            }
        }
        switch state {
        case .attribute:
            if let parent = parents.last ?? nil {
                return names(subAttributes(of: parent), .filterAttribute)
            }
            return names(context.attributes + ["not"], .filterAttribute)
        case .afterNot:
            return nothing
        case .comparisonOperator:
            return names(CompletionContext.filterOperators, .filterOperator)
        case .value(let attribute):
            return filterValues(for: attribute)
        case .logical:
            return names(["and", "or"], .filterLogical)
        }
    }

    /// The sub-attributes of `parent` known from dotted attribute paths, else the standard multi-valued ones.
    func subAttributes(of parent: String) -> [String] {
        let prefix = parent.lowercased() + "."
        let known = context.attributes.compactMap { path -> String? in
            guard path.lowercased().hasPrefix(prefix), path.count > prefix.count else { return nil }
            return String(path.dropFirst(prefix.count))
        }
        return known.isEmpty ? ["display", "primary", "type", "value"] : known
    }

    /// Values for a comparison with `attribute`: user names, ids, booleans, email types.
    func filterValues(for attribute: String) -> CompletionResult {
        switch lastComponent(of: attribute) {
        case "username":
            return values(context.knownUserNames, alwaysQuoted: true, position: .filterValue)
        case "id":
            return values(context.knownIds, alwaysQuoted: true, position: .filterValue)
        case "type":
            return values(["home", "other", "work"], alwaysQuoted: true, position: .filterValue)
        default:
            return booleanValues(for: attribute, position: .filterValue)
        }
    }

    /// `false` and `true` for the boolean attributes `active` and `primary`, else nothing.
    func booleanValues(for attribute: String, position: CompletionResult.Position) -> CompletionResult {
        let component = lastComponent(of: attribute)
        guard component == "active" || component == "primary" else { return nothing }
        return names(["false", "true"], position)
    }

    func lastComponent(of attribute: String) -> String {
        String(attribute.split(separator: ".").last ?? "").lowercased()
    }

    /// The index of the last `[` not closed by a `]`, if any.
    func unclosedBracket(in tokens: ArraySlice<CompletionToken>) -> Int? {
        var open: [Int] = []
        for index in tokens.indices {
            switch tokens[index].kind {
            case .openBracket: open.append(index)
            case .closeBracket: _ = open.popLast()
            default: break
            }
        }
        return open.last
    }

    // MARK: Candidates

    var nothing: CompletionResult {
        CompletionResult(candidates: [], range: word.range, position: .none)
    }

    /// The `candidates` that start with the typed word, ignoring case.
    func names(_ candidates: [String], _ position: CompletionResult.Position) -> CompletionResult {
        let typed = word.text.lowercased()
        let matching = candidates.filter { $0.lowercased().hasPrefix(typed) }
        return CompletionResult(candidates: sortedUnique(matching), range: word.range, position: position)
    }

    /// Literal values, quoted when the typed word starts with a quote, when `alwaysQuoted`, or when not a bare word.
    func values(_ raw: [String], alwaysQuoted: Bool, position: CompletionResult.Position) -> CompletionResult {
        var candidates: [String] = []
        if case .string(let quote, _) = word.kind {
            let typed = word.text.lowercased()
            candidates = raw.map { Self.quoted($0, preferring: quote) }.filter { $0.lowercased().hasPrefix(typed) }
        } else {
            let typed = word.text.lowercased()
            candidates = raw.filter { $0.lowercased().hasPrefix(typed) }.map {
                alwaysQuoted || !Self.isBare($0) ? Self.quoted($0, preferring: UInt8(ascii: "\"")) : $0
            }
        }
        return CompletionResult(candidates: sortedUnique(candidates), range: word.range, position: position)
    }

    /// Variable references for `typed` (`$na`, `${na`) whose text starts at UTF-8 offset `start`.
    func variables(typed: String, start: Int) -> CompletionResult {
        let body = typed.dropFirst()
        var candidates: [String]
        if body.hasPrefix("{") {
            var name = body.dropFirst()
            if name.hasSuffix("}") { name = name.dropLast() }
            let prefix = name.lowercased()
            candidates = context.variables.filter { $0.lowercased().hasPrefix(prefix) }.map { "${\($0)}" }
        } else {
            let prefix = body.lowercased()
            candidates = context.variables.filter { $0.lowercased().hasPrefix(prefix) }.map { "$" + $0 }
        }
        return CompletionResult(
            candidates: sortedUnique(candidates),
            range: start..<word.range.upperBound,
            appendsSpace: false,
            position: .variable
        )
    }

    /// File names from the context's lister; quoted when the word is quoted or a name needs quotes.
    func files() -> CompletionResult {
        var typed = word.text
        var quote: UInt8?
        if case .string(let mark, let terminated) = word.kind {
            quote = mark
            typed = String(typed.dropFirst())
            if terminated, !typed.isEmpty { typed.removeLast() }
            if mark == UInt8(ascii: "\"") {
                typed = typed.replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
            }
        }
        let candidates = context.fileLister(typed).map { path -> String in
            guard quote != nil || !Self.isBare(path) else { return path }
            let text = Self.quoted(path, preferring: quote ?? UInt8(ascii: "\""))
            // Leave a directory open so the path can go on.
            return path.hasSuffix("/") ? String(text.dropLast()) : text
        }
        return CompletionResult(candidates: sortedUnique(candidates), range: word.range, position: .file)
    }

    /// A `$name` or `${name` at the end of a double-quoted string's text: its offset in the text and the reference.
    func trailingVariableReference(in text: String) -> (offset: Int, text: Substring)? {
        let bytes = Array(text.utf8)
        guard let dollar = bytes.lastIndex(of: UInt8(ascii: "$")), dollar > 0 else { return nil }
        var escapes = 0
        var index = dollar - 1
        while index >= 0, bytes[index] == UInt8(ascii: "\\") {
            escapes += 1
            index -= 1
        }
        guard escapes % 2 == 0 else { return nil }
        var rest = bytes[(dollar + 1)...]
        if rest.first == UInt8(ascii: "{") { rest = rest.dropFirst() }
        guard rest.allSatisfy(CompletionTokenizer.isVariableByte) else { return nil }
        let utf8 = text.utf8
        let start = utf8.index(utf8.startIndex, offsetBy: dollar)
        return (dollar, text[start...])
    }

    func sortedUnique(_ candidates: [String]) -> [String] {
        Array(Set(candidates)).sorted()
    }

    /// Whether `text` can be written without quotes: non-empty and only bare-word bytes.
    static func isBare(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(CompletionTokenizer.isWordByte) && !text.hasPrefix("#")
    }

    /// `text` in quotes: single quotes when asked and possible (raw), else double quotes with `\` and `"` escaped.
    static func quoted(_ text: String, preferring quote: UInt8) -> String {
        if quote == UInt8(ascii: "'"), !text.contains("'") {
            return "'" + text + "'"
        }
        var escaped = ""
        for character in text {
            if character == "\\" || character == "\"" { escaped.append("\\") }
            escaped.append(character)
        }
        return "\"" + escaped + "\""
    }
}
