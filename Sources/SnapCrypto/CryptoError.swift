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
    /// scrypt parameters that need more memory or work than `limits` allow; nothing was
    /// allocated or computed.
    case scryptAboveLimit(Scrypt.Resource, parameters: Scrypt.Parameters, limits: Scrypt.Limits)

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
        case let .scryptAboveLimit(.memory, parameters, limits):
            let needed = parameters.memoryBytes.map(binarySize) ?? "more than 2^64 bytes"
            return "needs \(needed) for scrypt (\(parameters)), above the \(binarySize(limits.maxMemory)) limit"
        case let .scryptAboveLimit(.work, parameters, limits):
            return "needs more scrypt work (\(parameters)) than \(Scrypt.Limits.workFactor) derivations filling "
                + "the \(binarySize(limits.maxMemory)) limit"
        }
    }
}
