/// The commands every interpreter starts with.
public enum BuiltinCommands {
    /// All built-in pipeline commands.
    public static var all: [any Command] {
        [
            FindCommand(), GetCommand(), LookupCommand(), CreateCommand(), PatchCommand(), DeleteCommand(),
            WhereCommand(), SelectCommand(), SortCommand(), FirstCommand(), CountCommand(), ExpectCommand(),
            ImportCommand(), SaveCommand(), JournalCommand(), UndoCommand(), ConnectCommand(),
            GroupsCommand(), MembersCommand(), CreateGroupCommand(), RenameGroupCommand(), DeleteGroupCommand(),
            AddToCommand(), RemoveFromCommand(), SetMembersCommand(),
        ] + OutputFormat.allCases.map { OutputCommand(format: $0) }
    }

    /// Statement keywords (not pipeline stages).
    public static let statements = ["set", "unset", "vars", "let", "source", "echo", "help", "explain"]
}

/// A command built into scimsh: its place in `help` follows from its signature (a host's commands are listed apart).
protocol BuiltinCommand: Command {}

extension BuiltinCommand {
    var category: CommandCategory {
        if signature.access != .none { return .server }
        return signature.output == .printed && signature.input != .none ? .output : .local
    }
}
