import Foundation

/// Standard output gathered into writes of about 64 KiB: a stream of a million short lines
/// (`ls`, `find`) then costs a few thousand system calls rather than a million. What was
/// gathered is written when the buffer is flushed or goes away, a failure included, so
/// the lines printed before an error still appear before it.
final class OutputBuffer {
    private var bytes: [UInt8] = []
    private let limit = 64 << 10

    init() { bytes.reserveCapacity(limit + 4096) }

    deinit { flush() }

    /// Adds `text` as it is.
    func append(_ text: [UInt8]) {
        bytes.append(contentsOf: text)
        if bytes.count >= limit { flush() }
    }

    /// Adds `text` and a newline.
    func line(_ text: [UInt8]) {
        bytes.append(contentsOf: text)
        bytes.append(UInt8(ascii: "\n"))
        if bytes.count >= limit { flush() }
    }

    /// Adds `text` and a newline.
    func line(_ text: String) { line(Array(text.utf8)) }

    func flush() {
        guard !bytes.isEmpty else { return }
        Output.write(bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}
