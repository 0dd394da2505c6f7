import Foundation

/// Parses a REST protocol v2 listing: `[{"name": "…", "size": 123}, …]`.
enum RESTListing {
    struct Entry: Decodable {
        let name: String
        let size: Int
    }

    static func parse(_ body: [UInt8]) -> [Entry]? {
        try? JSONDecoder().decode([Entry].self, from: Data(body))
    }
}
