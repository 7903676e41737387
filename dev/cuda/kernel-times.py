#!/usr/bin/env python3
# kernel-times.py: sum ncu's gpu__time_duration per kernel name from
#   ncu --metrics gpu__time_duration.sum --csv PROGRAM ... > FILE
# (one decode step's kernels, say): count, total us, share, by kernel.
import csv, sys
rows = [r for r in csv.reader(l for l in open(sys.argv[1]) if l.startswith('"'))]
head, rows = rows[0], rows[1:]
ni, mi, vi, ui = (head.index(k) for k in ("Kernel Name", "Metric Name", "Metric Value", "Metric Unit"))
tot = {}
for r in rows:
    if r[mi] != "gpu__time_duration.sum":
        continue
    v = float(r[vi].replace(",", ""))
    u = r[ui]
    v = v / 1000 if u in ("ns", "nsecond") else v * 1000 if u in ("ms", "msecond") else v
    name = r[ni].split("(")[0].replace("void ", "")
    c, t = tot.get(name, (0, 0.0))
    tot[name] = (c + 1, t + v)
all_t = sum(t for _, t in tot.values())
print("%-40s %6s %10s %6s" % ("kernel", "count", "us", "share"))
for name, (c, t) in sorted(tot.items(), key=lambda kv: -kv[1][1]):
    print("%-40s %6d %10.1f %5.1f%%" % (name[:40], c, t, 100 * t / all_t))
print("%-40s %6d %10.1f" % ("all", sum(c for c, _ in tot.values()), all_t))
