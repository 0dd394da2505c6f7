#if canImport(Glibc)
import Glibc
#endif

/// Writes a stream into a regular file from its start, leaving 4 KiB runs of zeros as holes
/// (as `restore` does, with the same zero test): `dump --target` of a sparse disk image
/// takes the space of its data, not of its length. `finish` sets the file's length, which
/// a trailing hole would otherwise leave short.
public struct SparseOutput {
    private let fd: Int32
    public private(set) var length: UInt64 = 0

    /// - Parameter fd: open for writing on an empty regular file.
    public init(fd: Int32) { self.fd = fd }

    /// A write or the final truncation failed; `description` is the system's reason.
    public struct WriteError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Appends `bytes`.
    public mutating func write(_ bytes: [UInt8]) throws(WriteError) {
        if case .failure(let error) = Restorer.writeSkippingZeros(bytes, fd: fd, at: length) { throw WriteError(description: "\(error)") }
        length += UInt64(bytes.count)
    }

    /// Gives the file its full length.
    public func finish() throws(WriteError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw WriteError(description: String(cString: strerror(errno))) }
    }
}
