#if canImport(Glibc)
import Glibc
#endif
import SnapCore

/// An entry as the walk listed it (an `lstat` through its folder's descriptor), to tell
/// whether what a later open of its path reached is still that entry.
///
/// The walk lists each folder through its descriptor but opens files and subfolders by
/// their whole path. If a folder above was swapped for a symlink meanwhile, or another
/// entry renamed over it, the path leads elsewhere; what is found there must never be stored
/// under the listed entry's name, owner and mode (a user's swap could hand root-only data
/// to that user in a restore).
struct ListedEntry: Sendable {
    let device: UInt64
    let inode: UInt64
    let uid: UInt32
    let gid: UInt32
    let mode: UInt32
    let ctime: Timestamp

    init(_ st: stat) {
        device = UInt64(st.st_dev); inode = UInt64(st.st_ino); uid = st.st_uid; gid = st.st_gid
        mode = UInt32(st.st_mode) & 0o7777
        ctime = Timestamp(seconds: Int64(st.st_ctim.tv_sec), nanoseconds: UInt32(st.st_ctim.tv_nsec))
    }

    init(_ node: Node) {
        device = node.device; inode = node.inode; uid = node.uid; gid = node.gid; mode = node.mode; ctime = node.ctime
    }

    /// Whether `opened` (an `fstat` of what was opened) is this entry: the same device, and
    /// the same inode or, only on a file system whose inode numbers do not stay (`renumbers`:
    /// FUSE ones may give a new number each time a name is looked up, FAT and exFAT each time
    /// an inode is read again, overlayfs a folder's across layers on two file systems;
    /// `FileSystem.keepsInodeNumbers`), the same owner, mode and change time. Elsewhere
    /// another number is another entry: two files (or folders) of one owner and mode changed
    /// within one clock tick share a change time, since ext4 and others stamp times at the
    /// tick's granularity, so a swap of two such folders would pass.
    func isOpened(_ opened: stat, renumbers: @autoclosure () -> Bool) -> Bool {
        guard UInt64(opened.st_dev) == device else { return false }
        if UInt64(opened.st_ino) == inode { return true }
        guard renumbers() else { return false }
        return opened.st_uid == uid && opened.st_gid == gid && UInt32(opened.st_mode) & 0o7777 == mode
            && Int64(opened.st_ctim.tv_sec) == ctime.seconds && UInt32(opened.st_ctim.tv_nsec) == ctime.nanoseconds
    }
}
