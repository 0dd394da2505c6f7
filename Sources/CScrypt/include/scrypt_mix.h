// scrypt's memory-hard core, ROMix (RFC 7914, section 5), with a time-memory trade-off:
// it stores only every `interval`-th entry of the table V and recomputes the others
// when they are read. The result is bit-identical to plain ROMix; an attacker's cost
// does not change, only ours: 1/interval of the memory for about (interval + 3) / 4
// times the mixing work (interval 4: a quarter of the memory, 1.75 times the work).
#ifndef SNAP_SCRYPT_MIX_H
#define SNAP_SCRYPT_MIX_H
#include <stddef.h>
#include <stdint.h>

/// Runs ROMix in place on `block` (128 · r bytes) with cost `n` (a power of two ≥ 2).
/// `interval` must be a power of two in 1 … n. Returns 0, or -1 when the table
/// (n / interval · 128 · r bytes) cannot be allocated. Every buffer is wiped before it is freed.
int snap_scrypt_romix(uint8_t *block, size_t r, uint64_t n, uint64_t interval);

#endif
