import SnapStorage

/// Passes every call to `base`. Tests subclass it to change one behaviour (a listing
/// without times, folders listed together) and inherit the rest. `list(kinds:)` lists kind by
/// kind through `self`, so that a subclass's `list(_:)` applies to it too.
open class ForwardingBackend: Backend, @unchecked Sendable {
    public let base: Backend

    public init(_ base: Backend) { self.base = base }

    open var location: String { base.location }
    open func write(_ file: FileName, data: [UInt8]) throws { try base.write(file, data: data) }
    open func read(_ file: FileName, range: Range<Int>?) throws -> [UInt8] { try base.read(file, range: range) }
    open func stat(_ file: FileName) throws -> FileInfo { try base.stat(file) }
    open func list(_ kind: FileKind) throws -> [FileInfo] { try base.list(kind) }
    open func list(kinds: [FileKind]) throws -> KindListing { try KindListing.oneByOne(kinds, from: self) }
    open var listsKindsTogether: Bool { base.listsKindsTogether }
    open func delete(_ file: FileName) throws { try base.delete(file) }
    /// As the protocol's default (a temporary file); declared here so that subclasses can override it.
    open func makeStagedFile() throws -> StagedFile { try StagedFile.temporary() }
}
