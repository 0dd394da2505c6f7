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

    @Option(help: "Calls allowed at once per storage backend.")
    var connections = 5

    @Option(name: .customLong("s3-object-lock-days"), help: "S3: keep every object written locked against deletion for N days.")
    var objectLockDays: Int?

    @Option(name: .customLong("s3-object-lock-mode"), help: "S3: object lock mode, GOVERNANCE or COMPLIANCE (default GOVERNANCE).")
    var objectLockMode = "GOVERNANCE"

    @Option(name: .customLong("s3-storage-class"), help: "S3: storage class for objects written (e.g. STANDARD_IA).")
    var storageClass: String?

    func validate() throws {
        guard connections >= 1 && connections <= 64 else { throw ValidationError("--connections must be between 1 and 64") }
        if let days = objectLockDays, days < 1 { throw ValidationError("--s3-object-lock-days must be at least 1") }
        guard ["GOVERNANCE", "COMPLIANCE"].contains(objectLockMode.uppercased()) else {
            throw ValidationError("--s3-object-lock-mode must be GOVERNANCE or COMPLIANCE")
        }
    }

    /// Backend settings from the options above.
    var backendOptions: BackendOptions {
        var options = BackendOptions()
        options.connections = connections
        options.storageClass = storageClass
        options.objectLockDays = objectLockDays
        options.objectLockCompliance = objectLockMode.uppercased() == "COMPLIANCE"
        let quiet = self.quiet
        options.report = { message in if !quiet { Output.error("warning: \(message)") } }
        return options
    }

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The repository location as given.
    func location() throws -> String {
        guard let location = repository ?? environment["SNAP_REPOSITORY"], !location.isEmpty else {
            throw CLIError("no repository given: use -r/--repo or set SNAP_REPOSITORY")
        }
        return location
    }

    /// The backend stack for the chosen location.
    func backend() throws -> Backend {
        try RepositoryLocation.backend(for: try location(), options: backendOptions)
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

    /// Loads the repository's index, warning about index files that cannot be read.
    func loadIndex(_ repository: Repository) throws {
        try repository.loadIndex { id, error in
            Output.error("warning: index \(id.short) skipped: \(error)")
        }
    }

    /// Opens the repository, loads nothing else.
    func openRepository() throws -> Repository {
        let backend = try backend()
        return try Repository.open(backend: backend, password: try password())
    }
}
