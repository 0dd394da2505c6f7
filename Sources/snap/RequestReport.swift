import SnapStorage

/// The requests a command made to its backends: one line per backend at the end of the
/// command with -v, and the `requests` field of JSON summaries (docs/json.md).
enum RequestReport {
    /// Every backend the command opens is counted here (`GlobalOptions.backendOptions`).
    static let log = RequestLog()

    /// Prints one line per backend on standard error, when `-v` is given without `--json`.
    /// Standard error, so that output such as `dump`'s stays untouched.
    static func printLines(verbose: Bool, json: Bool) {
        guard verbose, !json else { return }
        for (location, counts) in log.entries { Output.error(line(location, counts)) }
    }

    /// `requests to s3:…: 12 reads (3.40 MiB), 2 lists, 5 writes (20.00 MiB), 0 deletes, 1 stat`.
    static func line(_ location: String, _ c: RequestCounts) -> String {
        let bytes = { (kind: RequestKind) in Output.bytes(c.bytes[kind] ?? 0) }
        return "requests to \(location): \(counted(c[.read], "read")) (\(bytes(.read))), \(counted(c[.list], "list")), "
            + "\(counted(c[.write], "write")) (\(bytes(.write))), \(counted(c[.delete], "delete")), \(counted(c[.stat], "stat"))"
    }

    /// The `requests` field of a JSON summary: one object per backend.
    static var json: [RequestsJSON] { log.entries.map { RequestsJSON(location: $0.location, $0.counts) } }
}

/// One backend's requests in a JSON summary.
struct RequestsJSON: Encodable {
    let backend: String
    let total: Int, reads: Int, lists: Int, writes: Int, deletes: Int, stats: Int
    let bytesRead: UInt64, bytesWritten: UInt64
    enum CodingKeys: String, CodingKey {
        case backend, total, reads, lists, writes, deletes, stats, bytesRead = "bytes_read", bytesWritten = "bytes_written"
    }

    init(location: String, _ c: RequestCounts) {
        backend = location
        total = c.total; reads = c[.read]; lists = c[.list]; writes = c[.write]; deletes = c[.delete]; stats = c[.stat]
        bytesRead = c.bytes[.read] ?? 0; bytesWritten = c.bytes[.write] ?? 0
    }
}

/// `value`'s fields plus `requests` (for summaries that carry their own `message_type`).
struct WithRequests<Value: Encodable>: Encodable {
    let value: Value
    private enum Keys: String, CodingKey { case requests }

    func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(RequestReport.json, forKey: .requests)
    }
}
