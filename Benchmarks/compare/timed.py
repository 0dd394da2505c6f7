#!/usr/bin/env python3
"""Runs a command and prints "wall user sys maxrss_kib" of it, for machines without
/usr/bin/time or taskset (the device machine of cores.sh).

    python3 timed.py [--cpus 0,1] [--errors FILE] COMMAND...

--cpus pins the command to those CPUs (the affinity is inherited), as `taskset -c` does;
the command's output is discarded, its messages appended to --errors (default: dropped).
A failed command adds " FAILED(code)".
"""
import os
import resource
import subprocess
import sys
import time

args = sys.argv[1:]
cpus, errors = None, os.devnull
while args and args[0].startswith("--"):
    if args[0] == "--cpus":
        cpus = {int(c) for c in args[1].split(",")}
    elif args[0] == "--errors":
        errors = args[1]
    args = args[2:]
if cpus is not None:
    os.sched_setaffinity(0, cpus)
with open(errors, "a") as err:
    start = time.monotonic()
    code = subprocess.call(args, stdout=subprocess.DEVNULL, stderr=err)
    wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.2f %.2f %.2f %d%s" % (wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss,
                               "" if code == 0 else " FAILED(%d)" % code))
