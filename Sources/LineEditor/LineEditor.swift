import CLibEdit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An interactive line reader over libedit's native API: prompt, emacs-style editing, history and Tab completion.
///
/// Use it only when ``isTerminal()`` is true; read plain lines otherwise. One instance owns one libedit editor on
/// the process's standard streams; it is not thread-safe, so create and use it on one thread.
///
/// The C callbacks (prompt, Tab) reach this object through libedit's `EL_CLIENTDATA` pointer, an unretained
/// reference: the object owns the editor and ends it in `deinit`, so the pointer never outlives the object. There
/// is no global mutable state.
///
/// Initialising sets the C locale's `LC_CTYPE` from the environment (falling back to `C.UTF-8`) when it is still
/// the default "C", because libedit handles multibyte characters only under a UTF-8 locale.
public final class LineEditor {
    /// What one call to ``readLine(prompt:)`` read.
    public enum ReadResult: Sendable, Equatable {
        /// A line the user entered, without its newline.
        case line(String)
        /// Ctrl-C: the read was interrupted by a signal (`el_gets` returned NULL with `errno == EINTR`); the
        /// editor has printed `^C` and a newline, so the next prompt starts on a fresh line.
        case interrupted
        /// Ctrl-D on an empty line, or the input closed or failed; the editor has printed a newline.
        case endOfFile
    }

    /// The name of the editor function bound to Tab (usable in `~/.editrc`).
    public static let completeFunctionName = "scimsh-complete"

    /// Computes candidates on Tab; `nil` makes Tab beep. See ``CompletionAction`` for what Tab then does.
    public var completionProvider: CompletionProvider?

    /// The in-memory history, oldest first: entries loaded from a file plus the ones added since.
    public private(set) var historyEntries: [String] = []

    /// The most entries kept in memory (and offered by Up); set from the file when loading.
    public private(set) var historyCapacity: Int = HistoryFile.defaultMaxEntries

    /// Whether a line sets a secret, so that it is kept neither in memory nor in a file (the shell passes a check
    /// on the parsed statements; by default ``SecretFilter/containsSecret(_:)``).
    public var isSecret: @Sendable (String) -> Bool = SecretFilter.containsSecret

    private let editLine: OpaquePointer
    private let historyHandle: OpaquePointer
    private var promptText: UnsafeMutablePointer<CChar>
    /// Entries added since the last load or save, oldest first.
    private var unsavedEntries: [String] = []

    /// Creates an editor named `programName` (the name `~/.editrc` lines can be prefixed with) on standard input
    /// and output; `nil` when libedit cannot be initialised.
    public init?(programName: String) {
        Self.adoptEnvironmentLocale()
        guard let editor = el_init(programName, scimsh_stdin(), scimsh_stdout(), scimsh_stderr()) else {
            return nil
        }
        guard let history = history_init() else {
            el_end(editor)
            return nil
        }
        guard let prompt = strdup("") else {
            history_end(history)
            el_end(editor)
            return nil
        }
        editLine = editor
        historyHandle = history
        promptText = prompt

        scimsh_history_setsize(history, Int32(clamping: historyCapacity))
        scimsh_history_setunique(history, 1)
        scimsh_el_set_clientdata(editor, Unmanaged.passUnretained(self).toOpaque())
        scimsh_el_set_editor(editor, "emacs")
        scimsh_el_set_signal(editor, 1)
        scimsh_el_set_prompt(editor, lineEditorPrompt, 1)
        scimsh_el_set_history(editor, history)
        scimsh_el_set_addfn(editor, Self.completeFunctionName, "Complete the word before the cursor", lineEditorTab)
        scimsh_el_set_bind(editor, "^I", Self.completeFunctionName)
        // The user's ~/.editrc (or $EDITRC) comes last so it can override the bindings above.
        _ = el_source(editor, nil)
    }

    deinit {
        el_end(editLine)
        history_end(historyHandle)
        free(promptText)
    }

    /// Whether both standard input and standard output are terminals, the only case to use a `LineEditor` in.
    public static func isTerminal() -> Bool {
        isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
    }

    // MARK: Reading

    /// Shows `prompt` and reads one edited line.
    ///
    /// Non-printing sequences in `prompt` (colours) must be enclosed in `\u{1}` characters so the cursor column
    /// stays right. Ctrl-C yields ``ReadResult/interrupted`` only when the process handles SIGINT with a handler
    /// installed by `sigaction` without `SA_RESTART`; with the default disposition Ctrl-C ends the process as
    /// usual. The line is not added to history; call ``addHistory(_:)``.
    public func readLine(prompt: String) -> ReadResult {
        if let copy = strdup(prompt) {
            free(promptText)
            promptText = copy
        }
        var count: Int32 = 0
        scimsh_set_errno(0)
        let text = el_gets(editLine, &count)
        let error = scimsh_errno()
        guard let text else {
            let interrupted = count == -1 && error == EINTR
            let output = scimsh_el_get_output(editLine) ?? scimsh_stdout()
            fputs(interrupted ? "^C\n" : "\n", output)
            fflush(output)
            return interrupted ? .interrupted : .endOfFile
        }
        var line = String(cString: text)
        if line.hasSuffix("\n") { line.removeLast() }
        return .line(line)
    }

    // MARK: History

    /// Adds `entry` as the newest history entry, unless it is blank, equal to the newest entry, or sets a secret
    /// (see ``isSecret``): such lines are kept neither in memory nor in the file. Multi-line entries are fine.
    public func addHistory(_ entry: String) {
        guard HistoryFile.isStorable(entry, isSecret: isSecret), historyEntries.last != entry else { return }
        historyEntries.append(entry)
        if historyEntries.count > historyCapacity {
            historyEntries.removeFirst(historyEntries.count - historyCapacity)
        }
        unsavedEntries.append(entry)
        if unsavedEntries.count > historyCapacity {
            unsavedEntries.removeFirst(unsavedEntries.count - historyCapacity)
        }
        scimsh_history_enter(historyHandle, entry)
    }

    /// Replaces the in-memory history with the entries of `file` and uses its capacity; entries added before and
    /// not yet saved are forgotten.
    public func loadHistory(from file: HistoryFile) throws(HistoryFileError) {
        let entries = try file.load()
        historyCapacity = file.maxEntries
        scimsh_history_clear(historyHandle)
        scimsh_history_setsize(historyHandle, Int32(clamping: historyCapacity))
        historyEntries = []
        for entry in entries.suffix(historyCapacity) where HistoryFile.isStorable(entry, isSecret: isSecret) {
            historyEntries.append(entry)
            scimsh_history_enter(historyHandle, entry)
        }
        unsavedEntries = []
    }

    /// Appends the entries added since the last load or save to `file` (merging with what other sessions wrote
    /// meanwhile, see ``HistoryFile/append(_:)``). Cheap enough to call after every line.
    public func saveHistory(to file: HistoryFile) throws(HistoryFileError) {
        guard !unsavedEntries.isEmpty else { return }
        try file.append(unsavedEntries)
        unsavedEntries = []
    }

    // MARK: Callbacks

    /// The prompt as a C string owned by this object.
    fileprivate var promptPointer: UnsafeMutablePointer<CChar> { promptText }

    /// Handles Tab: asks the provider, then edits the line or lists candidates.
    fileprivate func complete() -> UInt8 {
        guard let provider = completionProvider, let info = el_line(editLine),
            let start = info.pointee.buffer, let cursorPointer = info.pointee.cursor,
            let lastPointer = info.pointee.lastchar
        else { return UInt8(CC_REFRESH_BEEP) }
        let length = max(0, lastPointer - start)
        let cursor = min(max(0, cursorPointer - start), length)
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(start), count: length)
        let line = String(decoding: bytes, as: UTF8.self)
        let completion = provider(line, cursor)
        switch CompletionAction.plan(line: line, cursor: cursor, completion: completion) {
        case .beep:
            return UInt8(CC_REFRESH_BEEP)
        case .replace(let deleteCount, let insert):
            if deleteCount > 0 { el_deletestr(editLine, Int32(clamping: deleteCount)) }
            if !insert.isEmpty, el_insertstr(editLine, insert) != 0 { return UInt8(CC_ERROR) }
            return UInt8(CC_REFRESH)
        case .list(let candidates):
            let columns = Int(scimsh_el_get_columns(editLine))
            let output = scimsh_el_get_output(editLine) ?? scimsh_stdout()
            fputs("\n" + CompletionListing.format(candidates, width: columns > 0 ? columns : 80), output)
            fflush(output)
            return UInt8(CC_REDISPLAY)
        }
    }

    /// Sets `LC_CTYPE` from the environment when it is still "C", trying `C.UTF-8` when the environment names none.
    private static func adoptEnvironmentLocale() {
        func isDefault(_ name: UnsafeMutablePointer<CChar>?) -> Bool {
            guard let name else { return true }
            let text = String(cString: name)
            return text == "C" || text == "POSIX"
        }
        guard isDefault(setlocale(LC_CTYPE, nil)) else { return }
        if isDefault(setlocale(LC_CTYPE, "")) {
            _ = setlocale(LC_CTYPE, "C.UTF-8")
        }
    }
}

/// An empty C string for a prompt callback that cannot find its editor.
private let emptyPrompt = StaticString("")

/// The EL_PROMPT_ESC callback: the prompt of the `LineEditor` stored in the editor's client data.
private func lineEditorPrompt(_ editLine: OpaquePointer?) -> UnsafeMutablePointer<CChar>? {
    guard let editLine, let data = scimsh_el_get_clientdata(editLine) else {
        return UnsafeMutableRawPointer(mutating: emptyPrompt.utf8Start).assumingMemoryBound(to: CChar.self)
    }
    return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue().promptPointer
}

/// The EL_ADDFN callback bound to Tab: completion by the `LineEditor` stored in the editor's client data.
private func lineEditorTab(_ editLine: OpaquePointer?, _ key: Int32) -> UInt8 {
    guard let editLine, let data = scimsh_el_get_clientdata(editLine) else { return UInt8(CC_ERROR) }
    return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue().complete()
}
