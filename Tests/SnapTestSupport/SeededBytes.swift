import Foundation

/// SplitMix64 (Steele, Lea and Flood): a small, fast, seeded generator for reproducible test data.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// `count` pseudo-random bytes determined by `seed`, filled a word at a time so that
/// tens of MiB are quick to build in debug builds.
public func seededBytes(count: Int, seed: UInt64) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        let raw = UnsafeMutableRawBufferPointer(buffer)
        var generator = SplitMix64(seed: seed)
        var offset = 0
        while offset + 8 <= count {
            raw.storeBytes(of: generator.next().littleEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < count {
            raw[offset] = UInt8(truncatingIfNeeded: generator.next())
            offset += 1
        }
        initialized = count
    }
}

/// Whether two byte arrays are equal, compared with `memcmp` (element-wise `==` on tens of
/// MiB is slow in debug builds).
public func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { x in
        b.withUnsafeBytes { y in
            x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0
        }
    }
}
