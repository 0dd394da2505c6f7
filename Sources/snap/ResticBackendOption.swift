import ArgumentParser
import SnapComposition

/// restic's `-o/--option KEY=VALUE` backend settings: taken where snap has the setting, so
/// restic's scripts run as they are, and refused with snap's way where it has none, since a
/// setting passed over in silence would make a backup behave other than its user meant.
struct ResticBackendOption: Equatable {
    enum Setting: Equatable {
        /// `*.connections`: `--connections`.
        case connections(Int)
        /// `s3.storage-class`: `--s3-storage-class`.
        case storageClass(String)
        /// `s3.region`: as `AWS_REGION`.
        case region(String)
        /// `rclone.program`: as `SNAP_RCLONE_PROGRAM`.
        case rcloneProgram(String)
        /// A value that is what snap does anyway (`s3.bucket-lookup=path`, `*.layout=default`).
        case alreadySo
    }

    let setting: Setting

    private static let backends = ["local", "sftp", "rest", "rclone", "s3", "b2", "azure", "gs", "swift"]

    /// Parses one `-o` value.
    /// - Throws: `ValidationError` naming the option and what to use instead.
    init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("-o '\(text)' is not KEY=VALUE (e.g. -o s3.connections=10)") }
        let key = parts[0], value = parts[1]
        func refuse(_ why: String) -> ValidationError { ValidationError("-o \(key): \(why)") }
        let dot = key.split(separator: ".", maxSplits: 1).map(String.init)
        guard dot.count == 2, Self.backends.contains(dot[0]) else { throw refuse("not a backend option restic or snap knows") }
        switch (dot[0], dot[1]) {
        case (_, "connections"):
            guard let count = Int(value), count > 0 else { throw refuse("'\(value)' is not a number of connections (1 or more)") }
            setting = .connections(count)
        case ("s3", "storage-class"):
            guard !value.isEmpty else { throw refuse("give a storage class, e.g. STANDARD_IA") }
            setting = .storageClass(value)
        case ("s3", "region"):
            guard !value.isEmpty else { throw refuse("give a region, e.g. eu-west-1") }
            setting = .region(value)
        case ("s3", "bucket-lookup"):
            guard value == "auto" || value == "path" else { throw refuse("snap addresses buckets by path only (s3:https://HOST/BUCKET)") }
            setting = .alreadySo
        case ("s3", "list-objects-v1"):
            guard value == "false" else { throw refuse("snap lists with ListObjectsV2 only") }
            setting = .alreadySo
        case (_, "layout"):
            guard value == "default" else { throw refuse("snap keeps restic's default layout only") }
            setting = .alreadySo
        case ("rclone", "program"):
            guard !value.isEmpty else { throw refuse("give the rclone program's path") }
            setting = .rcloneProgram(value)
        case ("sftp", "command"), ("sftp", "args"):
            throw refuse("snap speaks SFTP itself (libssh2) and starts no ssh program; set the host, user, port and key "
                         + "in ~/.ssh/config or with SNAP_SFTP_* (docs/backends.md)")
        case ("rclone", "args"):
            throw refuse("snap starts 'rclone serve restic --stdio' itself; put rclone's settings in its config file or RCLONE_* variables")
        case ("b2", _), ("azure", _), ("gs", _), ("swift", _):
            throw refuse("snap has no \(dot[0]) backend; use it through rclone (rclone:REMOTE:PATH) or its S3 interface")
        default:
            throw refuse("snap has no such setting (docs/from-restic.md lists restic's -o options and snap's equivalents)")
        }
    }

    /// Sets what this option sets in `options`.
    func apply(to options: inout BackendOptions) {
        switch setting {
        case let .connections(count): options.connections = count
        case let .storageClass(name): options.storageClass = name
        case let .region(name):
            options.environment["AWS_REGION"] = name
            options.environment["AWS_DEFAULT_REGION"] = name
        case let .rcloneProgram(path): options.environment["SNAP_RCLONE_PROGRAM"] = path
        case .alreadySo: break
        }
    }
}
