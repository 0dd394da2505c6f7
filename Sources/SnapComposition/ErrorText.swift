import Foundation

/// The words for an error thrown by Foundation (`FileManager`, `Process`, `Data.write`):
/// the system's own message (`Permission denied`, `No such file or directory`), as snap's
/// other messages give it, rather than "The operation could not be completed…".
public enum ErrorText {
    public static func of(_ error: Error) -> String {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if let cocoa = error as? CocoaError, let code = posixCode(of: cocoa.code) { return String(cString: strerror(code)) }
        return ns.localizedDescription
    }

    /// The POSIX error behind a Foundation file error that carries none.
    private static func posixCode(of code: CocoaError.Code) -> Int32? {
        switch code {
        case .fileNoSuchFile, .fileReadNoSuchFile: return ENOENT
        case .fileWriteNoPermission, .fileReadNoPermission: return EACCES
        case .fileWriteFileExists: return EEXIST
        case .fileWriteOutOfSpace: return ENOSPC
        case .fileWriteVolumeReadOnly: return EROFS
        default: return nil
        }
    }
}
