#!/usr/bin/env python3
"""One large file for the single-file benchmarks (bigfile.sh, cores.sh).

    python3 gen-big.py PATH MIB

MIB MiB in 4 MiB blocks from a fixed seed, every other block's first half zeros, so that
compression has some work and runs compare the same bytes.
"""
import random
import sys

path, mib = sys.argv[1], int(sys.argv[2])
rng = random.Random(19)
with open(path, "wb") as out:
    for i in range(mib // 4):
        block = bytearray(rng.randbytes(4 << 20))
        if i % 2:
            block[: 2 << 20] = bytes(2 << 20)
        out.write(block)
