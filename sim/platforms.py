#!/usr/bin/env python3
"""platform.py - the simulated platforms of `make sim`, as SimGrid platform files.

Each platform is a few named parameters (below, each with its source); this
writes one SimGrid 4.1 platform file for a given host count, with the
parameters and their sources in a comment at its top, and a host file (one
host name a line) for smpirun. Every host is one simulated core of speed
1 Gf, and the runs give smpirun --cfg=smpi/host-speed:1Gf, so one second of
this machine's core is one simulated second.

  node    one many-core node: ranks are cores; each core's link is this
          machine's measured single-core read bandwidth with half the
          measured loopback one-way latency (a message crosses two links),
          and every message also crosses one shared backbone whose capacity
          is the measured all-core read bandwidth. flat / tree / allreduce
          there stand in for the threaded flat / sphere / sharded trainers
          at P cores (a stand-in: threads share memory, ranks copy it).
  ib      an InfiniBand-class cluster: a two-level non-blocking fat tree,
          25 GB/s and 0.5 us per link (HDR 200 Gb/s ports; 1 us within a
          leaf switch, 2 us across the top: round figures for one switch
          hop and cable each).
  10gbe   a 10 GbE cluster: a star, 1.25 GB/s and 10 us per host link
          through a non-blocking switch (20 us end to end, a round figure
          for kernel TCP over 10 GbE).
  exact   the tests' and the alpha-beta check's: a star of LAT s per link,
          BW bytes/s per link, non-blocking switch; run with SimGrid's
          latency and bandwidth factors at 1 (sim/smpi_args), a message of
          b bytes costs exactly 2 LAT + b / BW.

  python3 sim/platforms.py KIND HOSTS OUT.xml OUT.hosts [--measured FILE.json] [--lat S --bw BPS]

--measured: JSON with read_gbs_1t, read_gbs_all (sphere-bench peak --json)
and loopback_one_way_s (the 8-byte ping-pong of a real 2-rank run); needed
by `node`. Bad parameters are refused with a message and exit status 2.
"""
import argparse
import json
import math
import sys

KINDS = ("node", "ib", "10gbe", "exact")


class PlatformError(Exception):
    pass


def _positive(name, v):
    if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise PlatformError(f"{name}: {v!r} is not a positive number")
    return float(v)


def fat_tree_shape(hosts):
    """(hosts per leaf, leaves): the smallest square-ish two-level tree holding `hosts`."""
    per_leaf = max(1, math.isqrt(hosts - 1) + 1 if hosts > 1 else 1)
    leaves = (hosts + per_leaf - 1) // per_leaf
    return per_leaf, leaves


def describe(kind, hosts, measured=None, lat=None, bw=None):
    """The platform's parameters, their sources, and the XML body of its zone."""
    if kind not in KINDS:
        raise PlatformError(f"no platform '{kind}' (platforms: {', '.join(KINDS)})")
    if not isinstance(hosts, int) or hosts < 1 or hosts > 65536:
        raise PlatformError(f"hosts: {hosts!r} is not a whole number from 1 to 65536")
    if kind == "node":
        if not measured:
            raise PlatformError("node: needs --measured (read_gbs_1t, read_gbs_all, loopback_one_way_s)")
        for k in ("read_gbs_1t", "read_gbs_all", "loopback_one_way_s"):
            if k not in measured:
                raise PlatformError(f"node: --measured lacks {k}")
        link_bw = _positive("read_gbs_1t", measured["read_gbs_1t"]) * 1e9
        bb_bw = _positive("read_gbs_all", measured["read_gbs_all"]) * 1e9
        one_way = _positive("loopback_one_way_s", measured["loopback_one_way_s"])
        p = {"link_lat_s": one_way / 2, "link_bw_Bps": link_bw, "backbone_bw_Bps": bb_bw, "backbone": "shared"}
        src = ("link bandwidth: this machine's single-core read bandwidth (sphere-bench peak); "
               "backbone: its all-core read bandwidth, shared by every message; "
               "link latency: half the 8-byte one-way time of a real 2-rank ping-pong on loopback")
        body = cluster(hosts, p["link_lat_s"], link_bw, bb_bw, "SHARED")
    elif kind == "ib":
        per_leaf, leaves = fat_tree_shape(hosts)
        p = {"link_lat_s": 0.5e-6, "link_bw_Bps": 25e9, "topology": f"fat tree {leaves} leaves x {per_leaf} hosts, "
             f"{per_leaf} top switches (non-blocking)"}
        src = "HDR InfiniBand 200 Gb/s = 25 GB/s per port; 0.5 us a link: 1 us within a leaf, 2 us across the top"
        body = fat_tree(hosts, per_leaf, leaves, p["link_lat_s"], p["link_bw_Bps"])
    elif kind == "10gbe":
        p = {"link_lat_s": 10e-6, "link_bw_Bps": 1.25e9, "backbone": "non-blocking switch"}
        src = "10 Gb/s = 1.25 GB/s per host link; 10 us a link, 20 us end to end (kernel TCP over 10 GbE, round)"
        body = cluster(hosts, p["link_lat_s"], p["link_bw_Bps"], None, None)
    else:
        p = {"link_lat_s": _positive("--lat", lat), "link_bw_Bps": _positive("--bw", bw),
             "backbone": "non-blocking switch"}
        src = "exact alpha-beta: a message of b bytes costs 2 lat + b / bw (with SimGrid's factors at 1)"
        body = cluster(hosts, p["link_lat_s"], p["link_bw_Bps"], None, None)
    p["hosts"] = hosts
    return p, src, body


def host_names(hosts):
    return [f"h{i}" for i in range(hosts)]


def cluster(hosts, lat, bw, bb_bw, bb_policy):
    """A star: every host on its own full-duplex link; a backbone (shared) or a non-blocking switch (FATPIPE)."""
    bb = (f'bb_bw="{bb_bw:.6g}Bps" bb_lat="0s" bb_sharing_policy="{bb_policy}"' if bb_bw
          else 'bb_bw="1e15Bps" bb_lat="0s" bb_sharing_policy="FATPIPE"')
    return (f'    <cluster id="c" prefix="h" suffix="" radical="0-{hosts - 1}" speed="1Gf" '
            f'bw="{bw:.6g}Bps" lat="{lat:.6g}s" sharing_policy="SPLITDUPLEX" {bb}/>\n')


def fat_tree(hosts, per_leaf, leaves, lat, bw):
    total = per_leaf * leaves
    return (f'    <cluster id="c" prefix="h" suffix="" radical="0-{total - 1}" speed="1Gf" '
            f'bw="{bw:.6g}Bps" lat="{lat:.6g}s" sharing_policy="SPLITDUPLEX" topology="FAT_TREE" '
            f'topo_parameters="2;{per_leaf},{leaves};1,{per_leaf};1,1"/>\n')


def render(kind, hosts, measured=None, lat=None, bw=None):
    p, src, body = describe(kind, hosts, measured, lat, bw)
    params = json.dumps(p, sort_keys=True)
    return ("<?xml version='1.0'?>\n"
            '<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">\n'
            f"<!-- sphere-bench platform '{kind}', written by sim/platforms.py\n"
            f"     parameters: {params}\n"
            f"     sources: {src} -->\n"
            '<platform version="4.1">\n'
            '  <zone id="world" routing="Full">\n'
            f"{body}"
            "  </zone>\n"
            "</platform>\n"), p


def main(argv=None):
    ap = argparse.ArgumentParser(description="write a sphere-bench SimGrid platform and its host file")
    ap.add_argument("kind")
    ap.add_argument("hosts", type=int)
    ap.add_argument("xml")
    ap.add_argument("hostfile")
    ap.add_argument("--measured")
    ap.add_argument("--lat", type=float)
    ap.add_argument("--bw", type=float)
    a = ap.parse_args(argv)
    try:
        measured = None
        if a.measured:
            try:
                with open(a.measured) as f:
                    measured = json.load(f)
            except (OSError, ValueError) as e:
                raise PlatformError(f"--measured {a.measured}: {e}")
        text, _ = render(a.kind, a.hosts, measured, a.lat, a.bw)
    except PlatformError as e:
        print(f"platforms.py: {e}", file=sys.stderr)
        return 2
    with open(a.xml, "w") as f:
        f.write(text)
    with open(a.hostfile, "w") as f:
        f.write("\n".join(host_names(a.hosts)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
