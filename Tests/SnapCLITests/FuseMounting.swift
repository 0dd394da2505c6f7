import Foundation
import SnapTestSupport

/// Runs a FUSE mount program (`mount.exfat-fuse`, `ntfs-3g`) with `arguments`; whether it mounted.
///
/// The daemon keeps whatever it inherits open, and `runTool` would wait for it forever: it
/// is started from a shell that closes every descriptor above 2 and sends output nowhere.
func mountFUSE(_ program: String, _ arguments: [String]) throws -> Bool {
    let detached = "for f in /proc/$$/fd/*; do n=${f##*/}; [ \"$n\" -gt 2 ] && eval \"exec $n>&-\"; done; "
        + "exec \"$@\" </dev/null >/dev/null 2>&1"
    return try runTool("/bin/bash", ["-c", detached, "mount", program] + arguments).status == 0
}
