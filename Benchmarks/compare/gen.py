#!/usr/bin/env python3
"""Seeded data generators for Benchmarks/compare/run.sh.

    gen.py quick-tree DIR [--seed N]            small source-like tree (QUICK=1 smoke test)
    gen.py small-tree DIR --files N [--seed N]  N small files (the "500,000 small files" step)
    gen.py mutate TREE [--seed N]               edit 1 % of files, delete 0.5 %, add 0.5 %
    gen.py insert SRC DST [--seed N]            copy SRC to DST with 50 random 100-byte insertions

Everything is deterministic for a given seed and input. `mutate` is meant for a tree made
with `cp -al` from the original: every change is written as a new file (written beside
the old name, then renamed over it) or is an unlink, so the original tree's bytes never
change; only the link counts (and so the ctimes) of the originals change, which is why
run.sh builds the changed tree before any timed backup.
"""

import argparse
import os
import random
import sys


def walk_files(root):
    """Regular files below root as sorted relative paths (bytes, so any name works)."""
    out = []
    broot = os.fsencode(root)
    for dirpath, dirnames, filenames in os.walk(broot):
        dirnames.sort()
        for name in filenames:
            full = os.path.join(dirpath, name)
            if os.path.isfile(full) and not os.path.islink(full):
                out.append(os.path.relpath(full, broot))
    out.sort()
    return out


def text_block(rng, size):
    """Compressible but unique text: hex of random bytes broken into 64-character lines."""
    raw = rng.randbytes((size + 1) // 2).hex()[:size]
    lines = [raw[i:i + 64] for i in range(0, len(raw), 64)]
    return ("\n".join(lines) + "\n").encode()[:size]


def quick_tree(args):
    rng = random.Random(args.seed)
    words = [("w%d" % i) for i in range(2000)]
    n = 0
    for d1 in range(8):
        for d2 in range(12):
            d = os.path.join(args.dir, "dir%02d" % d1, "sub%02d" % d2)
            os.makedirs(d, exist_ok=True)
            for f in range(25):
                # Source-like text: repeated vocabulary compresses about as well as C source.
                size = int(rng.lognormvariate(8.5, 1.2)) + 10
                size = min(size, 400_000)
                parts, total = [], 0
                while total < size:
                    line = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) + ";\n"
                    parts.append(line)
                    total += len(line)
                with open(os.path.join(d, "file%03d.c" % f), "w") as fh:
                    fh.write("".join(parts)[:size])
                n += 1
    # A few symlinks, like a real source tree.
    os.symlink("dir00/sub00/file000.c", os.path.join(args.dir, "link.c"))
    print("quick tree: %d files" % n)


def small_tree(args):
    rng = random.Random(args.seed)
    per_dir = 100
    dirs_per_top = 100
    n = 0
    top = 0
    while n < args.files:
        for sub in range(dirs_per_top):
            if n >= args.files:
                break
            d = os.path.join(args.dir, "t%03d" % top, "s%03d" % sub)
            os.makedirs(d, exist_ok=True)
            for f in range(per_dir):
                if n >= args.files:
                    break
                size = rng.randint(64, 4096)
                with open(os.path.join(d, "f%03d.txt" % f), "wb") as fh:
                    fh.write(text_block(rng, size))
                n += 1
        top += 1
    print("small tree: %d files" % n)


def mutate(args):
    rng = random.Random(args.seed)
    root = os.fsencode(args.tree)
    files = walk_files(args.tree)
    total = len(files)
    n_edit = max(1, round(total * 0.01))
    n_del = max(1, round(total * 0.005))
    n_add = max(1, round(total * 0.005))
    picked = rng.sample(range(total), n_edit + n_del)
    edit_idx, del_idx = picked[:n_edit], picked[n_edit:]
    edit_bytes = 0
    for k, i in enumerate(sorted(edit_idx)):
        path = os.path.join(root, files[i])
        with open(path, "rb") as fh:
            data = fh.read()
        data += b"/* snap-compare edit %d seed %d */\n" % (k, args.seed)
        tmp = path + b".snap-compare-tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
        st = os.stat(path)
        os.chmod(tmp, st.st_mode & 0o7777)
        os.replace(tmp, path)  # a new inode: the hard-linked original keeps its bytes
        edit_bytes += len(data)
    for i in sorted(del_idx):
        os.unlink(os.path.join(root, files[i]))
    deleted = set(del_idx)
    keep = [i for i in range(total) if i not in deleted]
    add_bytes = 0
    for k in range(n_add):
        donor = files[rng.choice(keep)]
        with open(os.path.join(root, donor), "rb") as fh:
            body = fh.read()
        data = b"/* snap-compare added file %d seed %d */\n" % (k, args.seed) + body
        target_dir = os.path.dirname(os.path.join(root, files[rng.choice(keep)]))
        path = os.path.join(target_dir, b"snap_compare_added_%05d.c" % k)
        with open(path, "wb") as fh:
            fh.write(data)
        add_bytes += len(data)
    print("mutate: %d files; edited %d (%d bytes), deleted %d, added %d (%d bytes)"
          % (total, n_edit, edit_bytes, n_del, n_add, add_bytes))


def insert(args):
    rng = random.Random(args.seed)
    size = os.path.getsize(args.src)
    offsets = sorted(rng.randrange(size) for _ in range(50))
    with open(args.src, "rb") as src, open(args.dst, "wb") as dst:
        pos = 0
        for off in offsets:
            remaining = off - pos
            while remaining > 0:
                block = src.read(min(remaining, 8 << 20))
                if not block:
                    break
                dst.write(block)
                remaining -= len(block)
            pos = off
            dst.write(rng.randbytes(100))
        while True:
            block = src.read(8 << 20)
            if not block:
                break
            dst.write(block)
    print("insert: %d bytes + 50 x 100 bytes at seeded offsets" % size)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quick-tree"); q.add_argument("dir"); q.add_argument("--seed", type=int, default=1)
    s = sub.add_parser("small-tree"); s.add_argument("dir"); s.add_argument("--files", type=int, required=True)
    s.add_argument("--seed", type=int, default=2)
    m = sub.add_parser("mutate"); m.add_argument("tree"); m.add_argument("--seed", type=int, default=3)
    i = sub.add_parser("insert"); i.add_argument("src"); i.add_argument("dst"); i.add_argument("--seed", type=int, default=4)
    args = p.parse_args()
    {"quick-tree": quick_tree, "small-tree": small_tree, "mutate": mutate, "insert": insert}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
