/// Failures of the cryptographic primitives.
public enum CryptoError: Error, Equatable, CustomStringConvertible {
    /// AES-GCM tag verification failed: the data was modified, or the key is wrong.
    case authenticationFailed
    /// A key, nonce or tag had the wrong length.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// Parameters a primitive cannot work with (for example scrypt's N not a power of two).
    case invalidParameters(String)
    /// libcrypto reported an error in the named operation.
    case library(operation: String, detail: String)

    public var description: String {
        switch self {
        case .authenticationFailed:
            return "authentication failed (data modified or wrong key)"
        case let .invalidLength(what, expected, actual):
            return "\(what) must be \(expected) bytes, got \(actual)"
        case let .invalidParameters(reason):
            return reason
        case let .library(operation, detail):
            return "libcrypto \(operation) failed: \(detail)"
        }
    }
}
