/// SplitMix64: a tiny seeded generator so test data is the same on every run.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// `count` seeded pseudo-random bytes: incompressible for zstd.
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(state: seed)
    var out: [UInt8] = []
    out.reserveCapacity(count + 8)
    while out.count < count {
        withUnsafeBytes(of: generator.next().littleEndian) { out.append(contentsOf: $0) }
    }
    return Array(out.prefix(count))
}

/// About `count` bytes of English-like text built from a small vocabulary: very compressible.
func textBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    let words = ["backup", "snapshot", "the", "of", "chunk", "pack", "index", "repository", "a", "tree",
                 "blob", "restore", "and", "file", "with", "encrypted", "key", "data", "is", "to"]
    var generator = SplitMix64(state: seed)
    var out: [UInt8] = []
    while out.count < count {
        out.append(contentsOf: words[Int(generator.next() % UInt64(words.count))].utf8)
        out.append(generator.next() % 12 == 0 ? 0x0a : 0x20)
    }
    return Array(out.prefix(count))
}
