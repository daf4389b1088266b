import ArgumentParser
import LineEditor
import SCIMScript

/// `scimsh tutorial`: the guided tutorial, outside the shell (at the prompt, `tutorial` does the same).
struct TutorialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tutorial",
        abstract: "Learn SCIM and scimsh in short lessons on a sandbox of your own.",
        discussion: """
            Each lesson explains a part of SCIM (RFC 7643/7644) and gives a task; type statements until the task \
            is done: the lesson checks what your statement did, shows the HTTP exchange behind it, and gives a \
            hint after a wrong try. Progress is kept in $XDG_STATE_HOME/scimsh/tutorial, so 'scimsh tutorial' \
            goes on where you left.

            Examples:
              scimsh tutorial             go on at the first lesson not done
              scimsh tutorial list        the lessons, done ones ticked
              scimsh tutorial 3           lesson 3 (and on)
              scimsh tutorial reset       forget the progress
              scimsh tutorial verify      play every lesson's answer and check it (for teachers; docs/teaching.md)
            """)

    @ArgumentParser.Argument(
        help: ArgumentHelp("list, reset, a lesson number, or verify [FOLDER].", valueName: "action"))
    var action: [String] = []

    func run() throws {
        Interrupts.shared.install()
        let environment = Interpreter.currentEnvironment()
        let editor = Stdio.isTerminal(0) && Stdio.isTerminal(1) ? LineEditor(programName: "scimsh") : nil
        editor?.isSecret = SecretStatements.setsSecret
        var tutorial: Tutorial
        do throws(LessonError) {
            tutorial = try Tutorial(environment: environment) { prompt in
                if let editor {
                    let read = editor.readLine(prompt: prompt)
                    if case .line(let line) = read { editor.addHistory(line) }
                    return read
                }
                Stdio.writeAll(1, prompt)
                guard let line = Swift.readLine() else { return .endOfFile }
                return .line(line)
            }
        } catch {
            Stdio.writeAll(2, "scimsh: a built-in lesson is broken: \(error)\n")
            throw ExitCode(1)
        }
        let status = tutorial.run(action)
        // ScimshMain turns the status into 128 + the signal.
        if Interrupts.shared.terminatingSignal != 0 { Stdio.writeAll(2, "scimsh: \(Interrupts.shared.stopMessage)\n") }
        if status != 0 { throw ExitCode(status) }
    }
}
