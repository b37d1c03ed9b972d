#!/usr/bin/env python3
"""sweep.py - `make sim`: sphere-bench-mpi on simulated clusters, into a run folder.

Stages, each a function below, in order:
  data       a small token file (the first 8 bench-preset batches of --data,
             or of a 3 MB corpus made here): every simulated rank loads it
  measure    this machine: `sphere-bench peak` (read bandwidths) and real
             Open MPI runs on loopback (`bench`, R = 1, 2: full compute) whose
             8-byte ping-pong gives the node platform's latency
  costs      one simulated rank in timing mode measures a batch, an AdamW
             update and an addition on this core; every later run is charged
             those (--sim-costs), so rank counts and platforms compare alike
  validate   the same bench, simulated in full computation on the node
             platform at R = 1, 2 (against `real/`), and on an exact
             alpha-beta platform at 8 ranks with zero compute (`exact/`)
  sweep      every platform x rank count, timing mode, 2 steps of R batches
Writes OUT/sim.json (SimGrid version, platforms and their parameters, the
costs, every run's folder, host wall time and memory) beside the run folders
OUT/{real,valid,exact,node,ib,10gbe}/np-R/ that `sphere-bench-mpi bench` writes.
Every time in those folders is simulated except under real/.

  python3 sim/sweep.py --out DIR [--ranks "1 2 4"] [--platforms node,ib,10gbe] [--data TOKENS]
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from platforms import render  # noqa: E402

DEFAULT_RANKS = [1, 2, 4, 8, 13, 16, 64, 157, 256]
BENCH_BT = 64 * 64  # the bench preset's B x T
DATA_BATCHES = 8
# SimGrid settings every run shares; why each, in sim/README (and DESIGN.md, "Simulated clusters").
SMPI_COMMON = ["--cfg=smpi/host-speed:1Gf", "--cfg=smpi/allreduce:ompi", "--cfg=smpi/shared-malloc:global",
               "--cfg=network/optim:Full", "--cfg=contexts/stack-size:128", "--log=root.thres:warning"]
EXACT = ["--cfg=smpi/lat-factor:0:1", "--cfg=smpi/bw-factor:0:1"]
# ib, 10gbe: SMPI's calibrated defaults; exact: nor is the host's CPU time between MPI calls charged
FACTORS = {"node": EXACT, "exact": EXACT + ["--cfg=smpi/simulate-computation:no"], "ib": [], "10gbe": []}
EXACT_LAT, EXACT_BW = 10e-6, 1.25e9


def log(msg):
    print(f"sim: {msg}", flush=True)


def run(cmd, logpath=None, env=None):
    """Runs cmd; returns (host wall s, peak anonymous memory KB of its processes). Fails loudly."""
    t0 = time.time()
    if logpath:
        os.makedirs(os.path.dirname(logpath), exist_ok=True)
    out = open(logpath, "w") if logpath else subprocess.DEVNULL
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    peak = [0]

    def watch():
        while p.poll() is None:
            peak[0] = max(peak[0], anon_kb_of_tree(p.pid))
            time.sleep(0.5)
    w = threading.Thread(target=watch, daemon=True)
    w.start()
    rc = p.wait()
    w.join()
    if logpath:
        out.close()
    if rc != 0:
        tail = open(logpath).read()[-3000:] if logpath else ""
        raise SystemExit(f"sim: failed ({rc}): {' '.join(cmd)}\n{tail}")
    return time.time() - t0, peak[0]


def anon_kb_of_tree(root):
    """RssAnon of root and its descendants (shared-malloc pages are file pages, counted once below)."""
    kids, total = {}, 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    todo = [root]
    while todo:
        pid = todo.pop()
        todo += kids.get(pid, [])
        try:
            with open(f"/proc/{pid}/status") as f:
                m = re.search(r"RssAnon:\s+(\d+)", f.read())
                total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total


def stage_data(a, out):
    os.makedirs(f"{out}/data", exist_ok=True)
    src = a.data
    if not src or not os.path.exists(src):
        run([a.bench, "corpus", "--out", f"{out}/data/corpus.txt", "--bytes", "3000000"])
        run([a.bench, "tokenize", f"{out}/data/corpus.txt", "--out", f"{out}/data/corpus.tok"])
        src = f"{out}/data/corpus.tok"
    with open(src, "rb") as f:
        head = f.read(24)
        magic, ver, vocab, _, n = struct.unpack("<IIIIQ", head)
        k = DATA_BATCHES * BENCH_BT + 1
        if n < k:
            raise SystemExit(f"sim: {src} holds {n} tokens, fewer than {DATA_BATCHES} bench batches")
        body = f.read(4 * k)
    path = f"{out}/data/sim.tok"
    with open(path, "wb") as f:
        f.write(struct.pack("<IIIIQ", magic, ver, vocab, 0, k) + body)
    return {"source": src, "file": path, "batches": DATA_BATCHES, "vocab": vocab}


def bench_args(data, batches, folder):
    return ["bench", "--data", data, "--batches", str(batches), "--reps", "1", "--out", folder]


def stage_measure(a, out, data):
    peak = json.loads(subprocess.run([a.bench, "peak", "--json", "--array-mb", "64"], check=True,
                                     capture_output=True, text=True).stdout)
    real = {}
    for r in (1, 2):
        folder = f"{out}/real/np-{r}"
        wall, _ = run(["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", str(r),
                       a.prog_real] + bench_args(data, 4, folder), f"{out}/real/np-{r}.log",
                      env=dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1"))
        real[r] = {"dir": os.path.relpath(folder, out), "host_wall_s": wall}
    one_way = None
    with open(f"{out}/real/np-2/pingpong.csv") as f:
        for line in f.read().splitlines()[1:]:
            c = line.split(",")
            if c[2] == "8":
                one_way = float(c[5])
    m = {"read_gbs_1t": peak["read_gbs_1t"], "read_gbs_all": peak["read_gbs_all"], "loopback_one_way_s": one_way}
    with open(f"{out}/measured.json", "w") as f:
        json.dump(m, f, indent=1)
    return m, real


def platform_files(out, kind, hosts, measured):
    os.makedirs(f"{out}/platforms", exist_ok=True)
    xml, hf = f"{out}/platforms/{kind}-{hosts}.xml", f"{out}/platforms/{kind}-{hosts}.hosts"
    text, params = render(kind, hosts, measured, EXACT_LAT, EXACT_BW)
    with open(xml, "w") as f:
        f.write(text)
    with open(hf, "w") as f:
        f.write("\n".join(f"h{i}" for i in range(hosts)) + "\n")
    return xml, hf, params


def smpirun(a, ranks, xml, hf, kind, words, logpath):
    return run(["smpirun", "-np", str(ranks), "-platform", xml, "-hostfile", hf] + SMPI_COMMON + FACTORS[kind] +
               [a.prog_sim] + words, logpath)


def stage_costs(a, out, data, measured):
    xml, hf, _ = platform_files(out, "node", 1, measured)
    smpirun(a, 1, xml, hf, "node", ["train", "--data", data, "--batches", "4", "--timing", "--quiet"],
            f"{out}/costs.log")
    m = re.search(r"--sim-costs ([0-9.e+-]+),([0-9.e+-]+),([0-9.e+-]+)", open(f"{out}/costs.log").read())
    if not m:
        raise SystemExit(f"sim: no costs in {out}/costs.log")
    return {"batch_s": float(m.group(1)), "adamw_s": float(m.group(2)), "add_s": float(m.group(3))}


def sweep_one(a, out, kind, ranks, hosts, measured, words, sub):
    xml, hf, params = platform_files(out, kind, hosts, measured)
    folder = f"{out}/{sub}/np-{ranks}"
    os.makedirs(f"{out}/{sub}", exist_ok=True)
    wall, kb = smpirun(a, ranks, xml, hf, kind, words + ["--out", folder], f"{out}/{sub}/np-{ranks}.log")
    log(f"{sub} {ranks} ranks: {wall:.1f} s on this machine, {kb / 1e6:.2f} GB")
    return {"platform": kind, "ranks": ranks, "dir": os.path.relpath(folder, out), "host_wall_s": wall,
            "anon_peak_gb": kb / 1e6, "platform_file": os.path.relpath(xml, out), "params": params}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--ranks", default=" ".join(map(str, DEFAULT_RANKS)))
    ap.add_argument("--platforms", default="node,ib,10gbe")
    ap.add_argument("--data", default="data/corpus.tok")
    ap.add_argument("--prog-sim", default="build-smpi/sphere-bench-mpi")
    ap.add_argument("--prog-real", default="build/sphere-bench-mpi")
    ap.add_argument("--bench", default="build/sphere-bench")
    a = ap.parse_args(argv)
    ranks = [int(x) for x in a.ranks.split()]
    kinds = [k for k in a.platforms.split(",") if k]
    out = a.out
    if os.path.exists(f"{out}/sim.json"):
        raise SystemExit(f"sim: {out} already holds a sweep (sim.json); give another SIM_OUT")
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    version = subprocess.run(["smpirun", "--version"], capture_output=True, text=True).stdout.strip()
    log("data"); data = stage_data(a, out)
    log("measure (real runs on loopback, R = 1, 2)"); measured, real = stage_measure(a, out, data["file"])
    log("costs"); costs = stage_costs(a, out, data["file"], measured)
    cost_arg = f"{costs['batch_s']!r},{costs['adamw_s']!r},{costs['add_s']!r}"
    timing = lambda r: bench_args(data["file"], 2 * r, None)[:-2] + ["--timing", "--sim-costs", cost_arg]  # noqa: E731
    runs = []
    log("validate: full computation on the node platform, R = 1, 2")
    for r in (1, 2):
        runs.append(sweep_one(a, out, "node", r, 2, measured, bench_args(data["file"], 4, None)[:-2], "valid"))
    log("validate: exact alpha-beta platform, 8 ranks, zero compute")
    runs.append(sweep_one(a, out, "exact", 8, 8, measured, bench_args(data["file"], 16, None)[:-2] +
                          ["--timing", "--sim-costs", "0,0,0"], "exact"))
    for kind in kinds:
        for r in ranks:
            runs.append(sweep_one(a, out, kind, r, max(ranks), measured, timing(r), kind))
    index = {"schema": 1, "simgrid": version, "smpi_args": SMPI_COMMON, "factors": FACTORS,
             "exact": {"lat_s": EXACT_LAT, "bw_Bps": EXACT_BW}, "data": data, "measured": measured,
             "costs": costs, "real": real, "runs": runs, "sweep_wall_s": time.time() - t0}
    with open(f"{out}/sim.json", "w") as f:
        json.dump(index, f, indent=1)
    log(f"wrote {out}/sim.json ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
