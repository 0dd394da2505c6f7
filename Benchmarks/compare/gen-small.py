# Generates DIRS folders of PER files of 90–160 random bytes, seeded: python3 gen-small.py ROOT DIRS PER
import os, random, sys
root, dirs, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(19)
for d in range(dirs):
    p = os.path.join(root, "d%04d" % d); os.makedirs(p, exist_ok=True)
    for f in range(per):
        with open(os.path.join(p, "f%05d" % f), "wb") as fh:
            fh.write(rng.randbytes(rng.randint(90, 160)))
