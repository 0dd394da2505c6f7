import SnapTestSupport

/// `count` seeded pseudo-random bytes: incompressible for zstd.
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] { seededBytes(count: count, seed: seed) }

/// About `count` bytes of English-like text built from a small vocabulary: very compressible.
func textBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    let words = ["backup", "snapshot", "the", "of", "chunk", "pack", "index", "repository", "a", "tree",
                 "blob", "restore", "and", "file", "with", "encrypted", "key", "data", "is", "to"]
    var generator = SplitMix64(seed: seed)
    var out: [UInt8] = []
    while out.count < count {
        out.append(contentsOf: words[Int(generator.next() % UInt64(words.count))].utf8)
        out.append(generator.next() % 12 == 0 ? 0x0a : 0x20)
    }
    return Array(out.prefix(count))
}
