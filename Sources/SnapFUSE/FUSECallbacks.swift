import CFuseShim
import SnapCore
import SnapEngine
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// FUSE's callbacks: global functions (C function pointers cannot capture context), each a
// few lines that turn a C request into a call on the mounted `SnapshotFileSystem` and its
// answer or error back into C. They run on libfuse's threads, several at once.

/// The file system being served; set for the duration of `FUSEMount.serve`.
let servedFileSystem = Mutex<SnapshotFileSystem?>(nil)

private func fileSystem() -> SnapshotFileSystem? { servedFileSystem.withLock { $0 } }

private func pathBytes(_ path: UnsafePointer<CChar>?) -> [UInt8] {
    guard let path else { return [] }
    return Array(UnsafeRawBufferPointer(start: path, count: strlen(path)))
}

/// The negative errno FUSE expects for `error`.
func fuseError(_ error: any Error) -> Int32 {
    switch error as? MountError {
    case .notFound?: return -ENOENT
    case .notDirectory?: return -ENOTDIR
    case .isDirectory?: return -EISDIR
    case .wrongType?: return -EINVAL
    case .noAttribute?: return -ENODATA
    case .badHandle?: return -EBADF
    case .damaged?, nil: return -EIO
    }
}

/// Fills `st` from the engine's attributes.
func fill(_ st: UnsafeMutablePointer<stat>, _ a: MountAttributes) {
    memset(st, 0, MemoryLayout<stat>.size)
    // The S_IF* values of POSIX (spelled out: Glibc and the shim's header both export them).
    let kind: UInt32 = switch a.type {
    case .file, .hardlink: 0o100000
    case .directory: 0o040000
    case .symlink: 0o120000
    case .fifo: 0o010000
    case .characterDevice: 0o020000
    case .blockDevice: 0o060000
    case .socket: 0o140000
    }
    st.pointee.st_mode = mode_t(kind | (a.mode & 0o7777))
    st.pointee.st_ino = ino_t(a.inode)
    st.pointee.st_nlink = nlink_t(a.links)
    st.pointee.st_uid = a.uid
    st.pointee.st_gid = a.gid
    st.pointee.st_rdev = dev_t(a.rdev)
    st.pointee.st_size = off_t(clamping: a.size)
    st.pointee.st_blksize = 4096
    st.pointee.st_blocks = blkcnt_t(clamping: (a.size + 511) / 512)
    st.pointee.st_mtim = timespec(tv_sec: Int(a.mtime.seconds), tv_nsec: Int(a.mtime.nanoseconds))
    st.pointee.st_atim = st.pointee.st_mtim
    st.pointee.st_ctim = timespec(tv_sec: Int(a.ctime.seconds), tv_nsec: Int(a.ctime.nanoseconds))
}

func fuseGetattr(_ path: UnsafePointer<CChar>?, _ st: UnsafeMutablePointer<stat>?) -> Int32 {
    guard let fs = fileSystem(), let st else { return -EIO }
    do {
        fill(st, try fs.attributes(pathBytes(path)))
        return 0
    } catch {
        return fuseError(error)
    }
}

func fuseReadlink(_ path: UnsafePointer<CChar>?, _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int32 {
    guard let fs = fileSystem(), let buffer else { return -EIO }
    do {
        let target = try fs.linkTarget(pathBytes(path))
        target.withUnsafeBytes { if let start = $0.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: start, byteCount: min(size, $0.count)) } }
        return Int32(clamping: target.count)
    } catch {
        return fuseError(error)
    }
}

func fuseReaddir(_ path: UnsafePointer<CChar>?, _ context: UnsafeMutableRawPointer?, _ add: snap_fuse_add_entry?) -> Int32 {
    guard let fs = fileSystem(), let add else { return -EIO }
    do {
        var st = stat()
        for entry in try fs.list(pathBytes(path)) {
            fill(&st, entry.attributes)
            let full = (entry.name + [0]).withUnsafeBufferPointer { name in
                name.withMemoryRebound(to: CChar.self) { add(context, $0.baseAddress, &st) }
            }
            if full != 0 { break }
        }
        return 0
    } catch {
        return fuseError(error)
    }
}

func fuseOpen(_ path: UnsafePointer<CChar>?, _ handle: UnsafeMutablePointer<UInt64>?) -> Int32 {
    guard let fs = fileSystem(), let handle else { return -EIO }
    do {
        handle.pointee = try fs.open(pathBytes(path))
        return 0
    } catch {
        return fuseError(error)
    }
}

func fuseRead(_ handle: UInt64, _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ offset: Int64) -> Int32 {
    guard let fs = fileSystem(), let buffer, offset >= 0 else { return -EIO }
    do {
        let count = try fs.read(handle, at: UInt64(offset), into: UnsafeMutableRawBufferPointer(start: buffer, count: min(size, Int(Int32.max))))
        return Int32(count)
    } catch {
        return fuseError(error)
    }
}

func fuseRelease(_ handle: UInt64) -> Int32 {
    fileSystem()?.close(handle)
    return 0
}

func fuseGetxattr(_ path: UnsafePointer<CChar>?, _ name: UnsafePointer<CChar>?, _ value: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int32 {
    guard let fs = fileSystem() else { return -EIO }
    do {
        let wanted = pathBytes(name)
        guard let attribute = try fs.extendedAttributes(pathBytes(path)).first(where: { $0.name == wanted }) else { return -ENODATA }
        return copyOut(attribute.value, value, size)
    } catch {
        return fuseError(error)
    }
}

func fuseListxattr(_ path: UnsafePointer<CChar>?, _ list: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int32 {
    guard let fs = fileSystem() else { return -EIO }
    do {
        let names = try fs.extendedAttributes(pathBytes(path)).reduce(into: [UInt8]()) { $0 += $1.name; $0.append(0) }
        return copyOut(names, list, size)
    } catch {
        return fuseError(error)
    }
}

/// getxattr's and listxattr's contract: the length when `size` is 0, ERANGE when too small.
private func copyOut(_ bytes: [UInt8], _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int32 {
    if size == 0 { return Int32(clamping: bytes.count) }
    guard size >= bytes.count, let buffer else { return -ERANGE }
    bytes.withUnsafeBytes { if let base = $0.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: $0.count) } }
    return Int32(clamping: bytes.count)
}

func fuseStoredBytes() -> UInt64 {
    UInt64(clamping: fileSystem()?.storedBytes ?? 0)
}
