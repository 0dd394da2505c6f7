import Synchronization

extension MirrorBackend {
    /// Read-repair: after a read failed over from replicas that lack a file or hold a bad
    /// copy, writes a verified copy of the file back to them, so that the damage is gone
    /// rather than found again by every later read (and `mirror status --verify`).
    ///
    /// Only content-named files are repaired, and only with whole copies whose bytes match
    /// their name (SHA-256): a range that authenticated says nothing about the rest of the
    /// file, so for a range read the whole file is read again from the replica that served
    /// it. A missing file is written back only when it is a pack; an index, snapshot or key
    /// file a replica lacks may name packs it lacks too (it lags), which `mirror sync`
    /// copies in the right order. A bad copy of any content-named kind is replaced: the
    /// replica already depended on that file. Each file is repaired at most once a process;
    /// failures are reported and leave the replica as it was.
    func repairCopies(of file: FileName, on targets: [Int], from source: Int, wholeFile: [UInt8]?) {
        guard file.kind.isContentNamed else { return }
        let targets = health.withLock { all in
            targets.filter { !all[$0].state.down && all[$0].repairing.insert(file).inserted }
        }
        guard !targets.isEmpty else { return }
        var bytes = wholeFile
        if bytes == nil { bytes = try? replicas[source].backend.read(file, range: nil) }
        guard let bytes, verifyName(file, bytes) else {
            report("cannot repair \(file) on \(targets.map { replicas[$0].name }.joined(separator: ", ")): "
                + "no whole copy that matches its name was read; run `snap mirror sync --verify`")
            return
        }
        for i in targets {
            let present = (try? replicas[i].backend.stat(file)) != nil
            guard present || file.kind == .data else { continue }
            do {
                try replicas[i].backend.write(file, data: bytes)
                health.withLock { $0[i].state.repairedCopies += 1 }
                report("replica \(replicas[i].name) \(present ? "had a damaged copy of" : "lacked") \(file); "
                    + "wrote the verified copy from \(replicas[source].name) there")
            } catch {
                report("cannot repair \(file) on replica \(replicas[i].name) (\(error)); run `snap mirror sync --verify`")
            }
        }
    }
}
