import COpenSSL

/// Drains libcrypto's thread-local error queue into a `CryptoError`.
func libraryError(_ operation: String) -> CryptoError {
    var messages: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        messages.append(String(decoding: bytes, as: UTF8.self))
    }
    return .library(operation: operation, detail: messages.isEmpty ? "unknown error" : messages.joined(separator: "; "))
}
