import Foundation
import XCTest
import SnapTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Runs a FUSE mount program (`mount.exfat-fuse`, `ntfs-3g`) with `arguments`; whether it mounted.
///
/// The daemon keeps whatever it inherits open, and `runTool` would wait for it forever: it
/// is started from a shell that closes every descriptor above 2 and sends output nowhere.
func mountFUSE(_ program: String, _ arguments: [String]) throws -> Bool {
    let detached = "for f in /proc/$$/fd/*; do n=${f##*/}; [ \"$n\" -gt 2 ] && eval \"exec $n>&-\"; done; "
        + "exec \"$@\" </dev/null >/dev/null 2>&1"
    return try runTool("/bin/bash", ["-c", detached, "mount", program] + arguments).status == 0
}

/// An exFAT file system (exfat-fuse over a loop device on an image file) mounted at
/// `path`, as a USB disk gives one: names that ignore case, no fifos, no owners, no
/// `O_TMPFILE`. Throws `XCTSkip` where it cannot be made (not root, no FUSE, no tools).
final class ExFATDisk {
    let path: String
    private let loopDevice: String

    init(in work: String, size: String = "64M") throws {
        guard geteuid() == 0, access("/dev/fuse", R_OK | W_OK) == 0, access("/usr/sbin/losetup", X_OK) == 0,
              access("/usr/sbin/mkfs.exfat", X_OK) == 0, access("/usr/sbin/mount.exfat-fuse", X_OK) == 0 else {
            throw XCTSkip("needs root, /dev/fuse, losetup, mkfs.exfat and mount.exfat-fuse (scripts/install-deps.sh installs them)")
        }
        let image = "\(work)/exfat.img"
        guard try runTool("/usr/bin/truncate", ["-s", size, image]).status == 0,
              try runTool("/usr/sbin/mkfs.exfat", [image]).status == 0 else { throw XCTSkip("cannot make an exFAT image") }
        // As root, exfat-fuse mounts block devices only.
        let loop = try runTool("/usr/sbin/losetup", ["-f", "--show", image])
        guard loop.status == 0 else { throw XCTSkip("no loop device here") }
        loopDevice = loop.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        path = "\(work)/exfat"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        guard try mountFUSE("/usr/sbin/mount.exfat-fuse", [loopDevice, path]) else {
            _ = try? runTool("/usr/sbin/losetup", ["-d", loopDevice])
            throw XCTSkip("exfat-fuse cannot mount here")
        }
    }

    func unmount() {
        _ = try? runTool("/bin/umount", [path])
        _ = try? runTool("/usr/sbin/losetup", ["-d", loopDevice])
    }
}
