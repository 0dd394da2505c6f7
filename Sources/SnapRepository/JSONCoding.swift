import Foundation

/// JSON with sorted keys: the encoding of config and snapshot plaintexts.
public enum JSONCoding {
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// Decodes `bytes`, reporting a failure as damage to `file`.
    public static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], file: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw RepositoryError.damaged(file: file, reason: "invalid JSON: \(error)")
        }
    }
}
