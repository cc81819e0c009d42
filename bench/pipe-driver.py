#!/usr/bin/env python3
"""Runs COMMAND once per message file, stdin from the file, PARALLEL at once, as an
MTA's pipe delivery does (Postfix's pipe(8) execs the command directly, no shell).
usage: pipe-driver.py PARALLEL DIR COMMAND [ARGS...]   -> prints seconds taken"""
import os
import subprocess
import sys
import time

par, folder, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
files = sorted(os.listdir(folder))
running, failed = [], 0
start = time.monotonic()
for name in files:
    while len(running) >= par:
        for p in running:
            if p.poll() is not None:
                failed += p.returncode != 0
                running.remove(p)
                break
        else:
            time.sleep(0.0005)
    with open(os.path.join(folder, name), "rb") as f:
        running.append(subprocess.Popen(cmd, stdin=f, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, close_fds=False))
for p in running:
    failed += p.wait() != 0
print("%.3f %d" % (time.monotonic() - start, failed))
