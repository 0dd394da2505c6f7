// See include/scrypt_mix.h. Salsa20/8 runs on four 4-lane vectors holding the state's
// diagonals, so that both its column and its row rounds are lane-wise; blocks stay in
// that order for the whole of ROMix and are put back in word order at the end.
#include "scrypt_mix.h"
#include <stdlib.h>
#include <string.h>

typedef uint32_t lanes __attribute__((vector_size(16)));

/// A 64-byte Salsa20 block as diagonals: (x0 x5 x10 x15) (x4 x9 x14 x3) (x8 x13 x2 x7) (x12 x1 x6 x11).
typedef struct { lanes v[4]; } salsa_block;

static const int diagonal_word[16] = {0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11};

static inline lanes rotate(lanes x, int bits) { return (x << bits) | (x >> (32 - bits)); }

static inline uint32_t load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store_le32(uint8_t *p, uint32_t w) {
    p[0] = (uint8_t)w; p[1] = (uint8_t)(w >> 8); p[2] = (uint8_t)(w >> 16); p[3] = (uint8_t)(w >> 24);
}

/// Replaces `s` with its Salsa20/8 core (RFC 7914, section 3).
static inline void salsa20_8(salsa_block *s) {
    lanes a = s->v[0], b = s->v[1], c = s->v[2], d = s->v[3];
    for (int round = 0; round < 8; round += 2) {
        // Column round: every lane is one column.
        b ^= rotate(a + d, 7);
        c ^= rotate(b + a, 9);
        d ^= rotate(c + b, 13);
        a ^= rotate(d + c, 18);
        // Row round: turn b, c and d so that every lane is one row.
        lanes rd = __builtin_shufflevector(d, d, 1, 2, 3, 0);
        lanes rc = __builtin_shufflevector(c, c, 2, 3, 0, 1);
        lanes rb = __builtin_shufflevector(b, b, 3, 0, 1, 2);
        rd ^= rotate(a + rb, 7);
        rc ^= rotate(rd + a, 9);
        rb ^= rotate(rc + rd, 13);
        a ^= rotate(rb + rc, 18);
        d = __builtin_shufflevector(rd, rd, 3, 0, 1, 2);
        c = __builtin_shufflevector(rc, rc, 2, 3, 0, 1);
        b = __builtin_shufflevector(rb, rb, 1, 2, 3, 0);
    }
    s->v[0] += a; s->v[1] += b; s->v[2] += c; s->v[3] += d;
}

static inline void xor_block(salsa_block *x, const salsa_block *y) {
    for (int i = 0; i < 4; i++) x->v[i] ^= y->v[i];
}

/// BlockMix (RFC 7914, section 4) of the 2r blocks `in` into `out`; they must not overlap.
static void block_mix(const salsa_block *in, salsa_block *out, size_t r) {
    salsa_block x = in[2 * r - 1];
    for (size_t i = 0; i < 2 * r; i++) {
        xor_block(&x, &in[i]);
        salsa20_8(&x);
        out[(i & 1) * r + i / 2] = x;
    }
}

/// The table index that the mixed state `x` (2r blocks) selects: Integerify(X) mod n.
static inline uint64_t integerify(const salsa_block *x, size_t r, uint64_t n) {
    const salsa_block *last = &x[2 * r - 1];
    // Word 0 is lane 0 of the first diagonal; word 1 is lane 1 of the fourth.
    uint64_t value = (uint64_t)last->v[0][0] | (uint64_t)last->v[3][1] << 32;
    return value & (n - 1);
}

int snap_scrypt_romix(uint8_t *block, size_t r, uint64_t n, uint64_t interval) {
    size_t blocks = 2 * r;
    size_t bytes = blocks * sizeof(salsa_block);
    uint64_t stored = n / interval;
    if (stored > SIZE_MAX / bytes) return -1;
    salsa_block *table = aligned_alloc(64, (size_t)stored * bytes);
    salsa_block *work = aligned_alloc(64, 3 * bytes);
    if (table == NULL || work == NULL) {
        free(table);
        free(work);
        return -1;
    }
    salsa_block *x = work, *y = work + blocks, *t = work + 2 * blocks;

    for (size_t i = 0; i < blocks; i++)
        for (int w = 0; w < 16; w++)
            x[i].v[w / 4][w % 4] = load_le32(block + 64 * i + 4 * diagonal_word[w]);

    for (uint64_t i = 0; i < n; i++) {
        if (i % interval == 0) memcpy(table + (size_t)(i / interval) * blocks, x, bytes);
        block_mix(x, y, r);
        salsa_block *swap = x; x = y; y = swap;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t j = integerify(x, r, n);
        const salsa_block *entry = table + (size_t)(j / interval) * blocks;
        // Recompute V[j] from the stored entry before it, writing t and y in turn.
        salsa_block *spare = t, *other = y;
        for (uint64_t step = 0; step < j % interval; step++) {
            block_mix(entry, spare, r);
            entry = spare;
            spare = other;
            other = (salsa_block *)entry;
        }
        for (size_t b = 0; b < blocks; b++) xor_block(&x[b], &entry[b]);
        block_mix(x, y, r);
        salsa_block *swap = x; x = y; y = swap;
    }

    for (size_t i = 0; i < blocks; i++)
        for (int w = 0; w < 16; w++)
            store_le32(block + 64 * i + 4 * diagonal_word[w], x[i].v[w / 4][w % 4]);

    explicit_bzero(table, (size_t)stored * bytes);
    explicit_bzero(work, 3 * bytes);
    free(table);
    free(work);
    return 0;
}
