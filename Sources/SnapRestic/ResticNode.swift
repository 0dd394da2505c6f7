import Foundation

/// One entry of a restic tree (restic `doc/design.rst`, "Trees and Data"; the fields of
/// restic's `Node`), decoded into the forms snap needs: the name as raw bytes, the mode as
/// POSIX bits, the times parsed.
public struct ResticNode: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case file, dir, symlink, dev, chardev, fifo, socket
    }

    /// An extended attribute: name and raw value.
    public struct ExtendedAttribute: Sendable, Equatable {
        public let name: String
        public let value: [UInt8]
    }

    /// The name's bytes (names that are not valid UTF-8 are kept exactly; see `GoQuotedName`).
    public let name: [UInt8]
    public let kind: Kind
    /// POSIX permission bits with set-user-ID, set-group-ID and sticky (`0o7777` at most).
    public let permissions: UInt32
    public let mtime: ResticTime?
    public let atime: ResticTime?
    public let ctime: ResticTime?
    public let uid: UInt32
    public let gid: UInt32
    public let user: String
    public let group: String
    public let inode: UInt64
    public let deviceID: UInt64
    public let size: UInt64
    public let links: UInt64
    /// A symlink's target bytes: `linktarget_raw` where restic wrote it (targets that are not
    /// UTF-8, restic 0.17 and later), else `linktarget`.
    public let linkTarget: [UInt8]
    public let extendedAttributes: [ExtendedAttribute]
    /// `st_rdev` of a device node.
    public let device: UInt64
    /// A file's content: its data blobs in order.
    public let content: [ResticBlobID]
    /// A directory's tree.
    public let subtree: ResticBlobID?
    /// What restic could not read of this entry when it backed it up, if anything.
    public let error: String?

    /// The name for messages (bytes that are not UTF-8 shown as U+FFFD).
    public var displayName: String { String(decoding: name, as: UTF8.self) }
}

/// The JSON of a restic tree blob: `{"nodes": [ … ]}`.
struct ResticTreeJSON: Decodable {
    struct Attribute: Decodable {
        let name: String
        let value: Data?
    }

    init(nodes: [Node]?) { self.nodes = nodes }

    struct Node: Decodable {
        let name: String
        let type: String
        let mode: UInt32?
        let mtime: String?
        let atime: String?
        let ctime: String?
        let uid: UInt32?
        let gid: UInt32?
        let user: String?
        let group: String?
        let inode: UInt64?
        let deviceID: UInt64?
        let size: UInt64?
        let links: UInt64?
        let linktarget: String?
        let linktargetRaw: Data?
        let extendedAttributes: [Attribute]?
        let device: UInt64?
        let content: [ResticBlobID]?
        let subtree: ResticBlobID?
        let error: String?

        enum CodingKeys: String, CodingKey {
            case name, type, mode, mtime, atime, ctime, uid, gid, user, group, inode
            case deviceID = "device_id", size, links, linktarget, linktargetRaw = "linktarget_raw"
            case extendedAttributes = "extended_attributes", device, content, subtree, error
        }
    }

    let nodes: [Node]?

    /// Parses a tree blob's JSON with `TreeJSONParser` (Foundation's decoders took most of
    /// the time of importing a large tree); the fields and their checks are `Decodable`'s.
    static func parse(_ bytes: [UInt8], tree: String) throws -> ResticTreeJSON {
        func damaged(_ reason: String) -> ResticError { .damaged(file: "tree \(tree)", reason: reason) }
        let root: TreeJSONParser.Value
        do { root = try TreeJSONParser.parse(bytes) } catch {
            throw damaged("not valid JSON (at byte \(error.offset))")
        }
        guard case .object(let object) = root else { throw damaged("unexpected JSON (not an object)") }
        switch object["nodes"] {
        case nil, .null?:
            return ResticTreeJSON(nodes: nil)
        case .array(let entries)?:
            return ResticTreeJSON(nodes: try entries.map { entry in
                guard case .object(let fields) = entry else { throw damaged("unexpected JSON (an entry is not an object)") }
                return try Node(entry: fields, damaged: damaged)
            })
        default:
            throw damaged("unexpected JSON (\"nodes\" is not a list)")
        }
    }
}

extension ResticTreeJSON.Node {
    /// One entry's fields; a field of the wrong type is damage.
    init(entry: [String: TreeJSONParser.Value], damaged: (String) -> ResticError) throws {
        func value<T>(_ key: String, _ convert: (TreeJSONParser.Value) -> T?) throws -> T? {
            guard let raw = entry[key] else { return nil }
            if case .null = raw { return nil }
            guard let converted = convert(raw) else { throw damaged("unexpected JSON (field \"\(key)\" has the wrong type)") }
            return converted
        }
        func text(_ raw: TreeJSONParser.Value) -> String? { if case .string(let s) = raw { return s } else { return nil } }
        func string(_ key: String) throws -> String? { try value(key, text) }
        func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ key: String, _: T.Type) throws -> T? {
            try value(key) { raw in if case .number(let digits) = raw { return T(digits) } else { return nil } }
        }
        func bytes(_ key: String) throws -> Data? { try value(key) { text($0).flatMap { Data(base64Encoded: $0) } } }
        func id(_ raw: TreeJSONParser.Value) -> ResticBlobID? { text(raw).flatMap { ResticBlobID(hex: $0) } }
        guard let name = try string("name") else { throw damaged("unexpected JSON (an entry has no \"name\")") }
        guard let type = try string("type") else { throw damaged("unexpected JSON (entry \"\(name)\" has no \"type\")") }
        self.name = name
        self.type = type
        mode = try unsigned("mode", UInt32.self)
        mtime = try string("mtime")
        atime = try string("atime")
        ctime = try string("ctime")
        uid = try unsigned("uid", UInt32.self)
        gid = try unsigned("gid", UInt32.self)
        user = try string("user")
        group = try string("group")
        inode = try unsigned("inode", UInt64.self)
        deviceID = try unsigned("device_id", UInt64.self)
        size = try unsigned("size", UInt64.self)
        links = try unsigned("links", UInt64.self)
        linktarget = try string("linktarget")
        linktargetRaw = try bytes("linktarget_raw")
        extendedAttributes = try value("extended_attributes") { raw -> [ResticTreeJSON.Attribute]? in
            guard case .array(let list) = raw else { return nil }
            var attributes: [ResticTreeJSON.Attribute] = []
            for item in list {
                guard case .object(let fields) = item, let name = fields["name"].flatMap(text) else { return nil }
                switch fields["value"] {
                case nil, .null?: attributes.append(.init(name: name, value: nil))
                case .string(let encoded)?:
                    guard let data = Data(base64Encoded: encoded) else { return nil }
                    attributes.append(.init(name: name, value: data))
                default: return nil
                }
            }
            return attributes
        }
        device = try unsigned("device", UInt64.self)
        content = try value("content") { raw -> [ResticBlobID]? in
            guard case .array(let list) = raw else { return nil }
            let ids = list.compactMap(id)
            return ids.count == list.count ? ids : nil
        }
        subtree = try value("subtree", id)
        error = try string("error")
    }
}

extension ResticNode {
    /// Checks and converts one decoded node of the tree blob `tree`.
    init(_ json: ResticTreeJSON.Node, tree: String) throws {
        func damaged(_ reason: String) -> ResticError { .damaged(file: "tree \(tree)", reason: reason) }
        let name: [UInt8]
        do { name = try GoQuotedName.unquote(json.name) } catch {
            throw damaged("entry name \"\(json.name)\" is not quoted as restic writes names (\(error.reason))")
        }
        guard !name.isEmpty, name != [46], name != [46, 46], !name.contains(47), !name.contains(0) else {
            throw damaged("entry name \"\(json.name)\" is not a single path component")
        }
        guard let kind = Kind(rawValue: json.type) else { throw damaged("entry \"\(json.name)\" has unknown type \"\(json.type)\"") }
        if kind == .dir, json.subtree == nil { throw damaged("directory \"\(json.name)\" has no subtree") }
        func time(_ text: String?, _ field: String) throws -> ResticTime? {
            guard let text else { return nil }
            guard let parsed = ResticTime(text) else { throw damaged("entry \"\(json.name)\" has an unreadable \(field) \"\(text)\"") }
            return parsed
        }
        self.name = name
        self.kind = kind
        permissions = GoFileMode(value: json.mode ?? 0).posixPermissions
        mtime = try time(json.mtime, "mtime")
        atime = try time(json.atime, "atime")
        ctime = try time(json.ctime, "ctime")
        uid = json.uid ?? 0
        gid = json.gid ?? 0
        user = json.user ?? ""
        group = json.group ?? ""
        inode = json.inode ?? 0
        deviceID = json.deviceID ?? 0
        size = json.size ?? 0
        links = json.links ?? 0
        if let raw = json.linktargetRaw { linkTarget = Array(raw) } else { linkTarget = Array((json.linktarget ?? "").utf8) }
        extendedAttributes = (json.extendedAttributes ?? []).map { ExtendedAttribute(name: $0.name, value: Array($0.value ?? Data())) }
        device = json.device ?? 0
        content = json.content ?? []
        subtree = json.subtree
        error = json.error
    }
}
