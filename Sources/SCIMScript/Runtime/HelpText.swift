import SCIMClient
import SCIMCore

/// The text of `help` and `help TOPIC`.
enum HelpText {
    /// Topics other than command names.
    static let topics = ["filter", "variables", "syntax", "statements", "exit-codes", "server"]

    static func render(topic: String?, interpreter: Interpreter) throws -> String {
        guard let topic, !topic.isEmpty else { return overview(interpreter) }
        let t = topic.lowercased()
        if let c = interpreter.command(named: t) { return commandHelp(c) }
        switch t {
        case "filter", "filters": return filter
        case "variables", "vars", "set": return variables
        case "syntax", "language": return syntax
        case "statements", "let", "source", "echo", "unset", "explain": return statements
        case "exit-codes", "exit": return exitCodes
        default:
            let names = interpreter.commands.map(\.name) + topics
            var message = "no help for '\(topic)'"
            if let near = Suggest.closest(to: topic, among: names) { message += " (did you mean '\(near)'?)" }
            throw ScriptError(message + "; type 'help' for the list")
        }
    }

    static func overview(_ interpreter: Interpreter) -> String {
        var out = "scimsh \(SCIMClientVersion.current) — administer users over SCIM 2.0\n\n"
        out += "Pipelines: STAGE | STAGE | ...   e.g.  find userName eq \"bjensen\" | patch active=false\n"
        out +=
            "Groups:    groups | members GROUP | … | add-to GROUP | … | remove-from GROUP (or --all) | … | set-members\n"
        out += "           e.g.  find userName eq \"bjensen\" | remove-from --all | deactivate\n\n"
        for category in CommandCategory.allCases {
            let cmds = interpreter.commands.filter { $0.category == category }
            guard !cmds.isEmpty else { continue }
            out += category.rawValue + ":\n"
            let width = cmds.map(\.name.count).max() ?? 0
            for c in cmds {
                let name = c.name + String(repeating: " ", count: width - c.name.count)
                let alias = c.aliases.isEmpty ? "" : " (also: \(c.aliases.joined(separator: ", ")))"
                out += "  \(name)  \(c.summary)\(alias)\n"
            }
            out += "\n"
        }
        out += "Statements:\n" + statements.split(separator: "\n").map { "  \($0)\n" }.joined()
        return out + "\nTopics: " + (topics + ["COMMAND"]).map { "help \($0)" }.joined(separator: ", ") + "\n\n"
    }

    static func commandHelp(_ c: any Command) -> String {
        var out = "\(c.usage)\n\n\(c.summary)\n\n\(c.help)\n"
        if !c.aliases.isEmpty { out += "\nAlso: \(c.aliases.joined(separator: ", "))\n" }
        if !c.examples.isEmpty {
            out += "\nExamples:\n"
            for e in c.examples { out += "  \(e.source)\n      \(e.summary)\n" }
        }
        return out
    }

    static let filter = """
        SCIM filters (RFC 7644 §3.4.2.2), used by find (sent to the server) and where (evaluated here).

          ATTR OP VALUE         userName eq "bjensen"     meta.lastModified gt "2026-01-01T00:00:00Z"
          ATTR pr               externalId pr             (present: set and not empty)
          A and B, A or B       not (A)                   parentheses group
          ATTR[FILTER]          emails[type eq "work" and value eq "bjensen@example.com"]

        Operators: eq ne co (contains) sw (starts with) ew (ends with) gt ge lt le pr.
        Values: "JSON strings", numbers, true, false, null. $var (or $1 in a script) inside a filter is
        inserted as a value: text as a properly quoted string, numbers and true/false as themselves:
          set who = "bjensen"; find userName eq $who
        Attribute names and operators are case-insensitive; string comparisons too.

        ODM supports only eq and and (plus the emails[...] value filter) and lists active users only.
        For anything else filter locally:  find | where displayName co "Jen"

        """

    /// `help variables`, its table made from ``Session/knownVariables``.
    static var variables: String {
        let width = Session.knownVariables.map(\.name.count).max() ?? 0
        let rows = Session.knownVariables.map { v in
            let name = v.name + String(repeating: " ", count: width - v.name.count)
            return "  \(name)  \(v.summary)" + (v.defaultValue.map { " (default \($0.displayString))" } ?? "") + "\n"
        }
        return """
            Variables: set NAME = VALUE, unset NAME, vars. Use them as $NAME (or ${NAME} inside strings).
            $env.NAME reads an environment variable; $1, $2 are a script's arguments.

            \(rows.joined())
            Every write is journaled; see help journal and help undo. explain PIPELINE shows the requests a
            pipeline would send without sending any write.

            Keep tokens out of scripts and history: set token = $env.ODM_TOKEN
            The scimsh command reads SCIMSH_TOKEN and SCIMSH_API_TOKEN from the environment at start.

            """
    }

    static let syntax = """
        A statement ends at a newline or ';'. A line ending in '|' or '\\' continues on the next line.
        '#' starts a comment outside strings.
        "double quotes" allow \\" \\\\ \\n \\t \\$ escapes and $name / ${name} interpolation; 'single quotes' are raw.
        Bare words (bjensen@example.com, ./users.csv), numbers, true, false, null.
        ATTR=VALUE (no spaces) is an assignment argument; --flag or --flag VALUE an option.
        $NAME as the first stage feeds records kept with let: let sales = find title eq "Sales"; $sales | count

        """

    static let statements = """
        set NAME = VALUE      set a session variable (see help variables)
        unset NAME            remove a variable or a record list
        vars                  list variables (secrets as ****)
        let NAME = PIPELINE   run a pipeline and keep its records; $NAME | ... feeds them on
        source FILE           run a script file in this session
        echo ARGS...          print the arguments
        explain PIPELINE      show how a pipeline parses and the HTTP requests it would send; sends no write
        help [TOPIC]          this help

        """

    static let exitCodes = """
        Exit codes of scimsh:
          0    every statement succeeded
          1    a statement failed at run time (an HTTP error, a failed user in a bulk change, a missing file),
               or a connection profile's token could not be fetched
          2    a usage or parse error, or a bad profiles file or profile name (nothing ran)
          130  interrupted with Ctrl-C
          143  stopped by SIGTERM (129: SIGHUP), as by Ctrl-C

        """
}

extension Interpreter {
    /// What `help` takes: every command's name and the other topics (filter, variables, ...), sorted.
    public var helpTopics: [String] { (commands.map(\.name) + HelpText.topics).sorted() }
}
