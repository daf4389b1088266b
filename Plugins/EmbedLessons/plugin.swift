import Foundation
import PackagePlugin

/// Embeds the tutorial's lesson files (`tutorial/*.toml`) in the target as Swift source, so an installed binary
/// carries its lessons and a teacher adds a lesson by adding a file: the list is read at every build.
@main
struct EmbedLessons: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "tutorial")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".toml") }
            .sorted()
        let inputs = names.map { folder.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedLessons.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(names.count) tutorial lessons",
                executable: try context.tool(named: "EmbedLessonsTool").url,
                arguments: [output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
