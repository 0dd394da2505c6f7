import ArgumentParser
import Foundation
import SnapComposition
import SnapRepository
import SnapStorage

/// Options every command accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: [.short, .customLong("repo")], help: "Repository location: a path or local:/path (default: $SNAP_REPOSITORY).")
    var repository: String?

    @Option(name: .customLong("password-file"), help: "Read the password from this file (default: $SNAP_PASSWORD_FILE).")
    var passwordFile: String?

    @Option(name: .customLong("password-command"), help: "Run this shell command and use its output as the password (default: $SNAP_PASSWORD_COMMAND).")
    var passwordCommand: String?

    @Flag(help: "Print data as JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print only errors and warnings.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Print more detail.")
    var verbose = false

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The backend for the chosen location.
    func backend() throws -> Backend {
        guard let location = repository ?? environment["SNAP_REPOSITORY"], !location.isEmpty else {
            throw CLIError("no repository given: use -r/--repo or set SNAP_REPOSITORY")
        }
        return try RepositoryLocation.backend(for: location)
    }

    /// The password, from the first source that is set: command, file, environment, terminal.
    func password(confirm: Bool = false) throws -> String {
        if let command = passwordCommand ?? environment["SNAP_PASSWORD_COMMAND"] {
            return try PasswordSource.run(command: command)
        }
        if let file = passwordFile ?? environment["SNAP_PASSWORD_FILE"] {
            return try PasswordSource.read(file: file)
        }
        if let value = environment["SNAP_PASSWORD"] {
            guard !value.isEmpty else { throw CLIError("SNAP_PASSWORD is set but empty") }
            return value
        }
        return try PasswordSource.prompt(confirm: confirm)
    }

    /// Opens the repository, loads nothing else.
    func openRepository() throws -> Repository {
        let backend = try backend()
        return try Repository.open(backend: backend, password: try password())
    }
}
