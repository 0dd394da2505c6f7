import Foundation
import SnapStorage

/// A restic lock (`locks/ID`; restic `doc/design.rst`, "Locks"). snap never writes one; it
/// only looks for an exclusive lock, held while restic deletes data (prune, forget --prune).
struct ResticLock: Decodable {
    let time: String
    let exclusive: Bool
    let hostname: String?
    let username: String?
    let pid: Int?

    /// Throws `ResticError.exclusivelyLocked` when any readable lock is exclusive. Locks that
    /// vanish while being read were released; unreadable ones are ignored, since a writer
    /// of the repository would have left a readable lock.
    static func refuseExclusive(backend: Backend, key: ResticCipherKey, now: Date = Date()) throws {
        let files: [FileInfo]
        do { files = try backend.list(.locks) } catch { throw ResticError.storage(file: "locks/", detail: "\(error)") }
        for info in files {
            guard let json = try? UnpackedFile.read(info.file, from: backend, key: key),
                  let lock = try? JSONDecoder().decode(ResticLock.self, from: Data(json)), lock.exclusive else { continue }
            let age = ResticTime(lock.time).map { Int(now.timeIntervalSince1970) - Int($0.seconds) } ?? 0
            let holder = "\(lock.username ?? "?")@\(lock.hostname ?? "?") (PID \(lock.pid.map(String.init) ?? "?"))"
            throw ResticError.exclusivelyLocked(file: info.file.description, holder: holder, ageSeconds: max(0, age))
        }
    }
}
