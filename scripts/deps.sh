#!/bin/sh
# deps.sh - makes sure the Debian packages the build, tests and report need are here.
#
# Checks for each package's files rather than asking dpkg, so a machine that has
# them some other way passes too. As root it installs what is missing with
# apt-get; otherwise it prints the exact apt-get line and fails.
set -u
missing=""
need() { # need PACKAGE TEST-ARGS...
    pkg=$1; shift
    if ! "$@" >/dev/null 2>&1; then missing="$missing $pkg"; fi
}
need gcc              command -v gcc
need make             command -v make
need libcmocka-dev    test -f /usr/include/cmocka.h
need libpfm4-dev      test -f /usr/include/perfmon/pfmlib.h
need gnuplot-nox      command -v gnuplot
need python3          command -v python3
# Google Benchmark's compare.py reads the run folder's gbench.json (tests/test_compare.c);
# it needs SciPy, which the Debian python3 has even when another python3 comes first on PATH.
need libbenchmark-tools test -f /usr/share/benchmark/compare.py
need python3-scipy    sh -c "python3 -c 'import scipy' || /usr/bin/python3 -c 'import scipy'"
need libopenmpi-dev   command -v mpicc
need openmpi-bin      command -v mpirun
# group sim: SimGrid's SMPI (smpicc, smpirun) for make sim and tests/test_sim.c
need libsimgrid-dev   command -v smpirun

[ -z "$missing" ] && exit 0
line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing missing packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || { echo "deps: 'apt-get update' failed; run it by hand, then: $line" >&2; exit 1; }
    apt-get install -y -q --no-install-recommends $missing >/dev/null \
        || { echo "deps: '$line' failed; run it by hand to see why" >&2; exit 1; }
    exit 0
fi
echo "deps: missing Debian packages:$missing" >&2
echo "deps: as root, run:  $line" >&2
exit 1
