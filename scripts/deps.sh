#!/bin/sh
# deps.sh - makes sure the Debian packages a make target needs are here.
#
# usage: deps.sh TARGET GROUP...   (TARGET names the make target in messages)
#   build   the compiler and libpfm4: all that `make` needs
#   test    cmocka, and Python with SciPy and Google Benchmark's compare.py
#   report  gnuplot and SciPy
#   bench   OpenBLAS, which bench-core times beside the core's matmul
#   mpi     Open MPI (mpicc, mpirun)
#   sim     SimGrid's SMPI (smpicc, smpirun), for make sim
# Checks for each package's files rather than asking dpkg, so a machine that has
# them some other way passes too. As root it installs what is missing with
# apt-get; otherwise it prints the exact apt-get line and fails.
set -u
target=${1:-make}
[ $# -gt 0 ] && shift
missing=""
need() { # need PACKAGE TEST-ARGS...
    pkg=$1; shift
    case " $missing " in *" $pkg "*) return ;; esac
    if ! "$@" >/dev/null 2>&1; then missing="$missing $pkg"; fi
}
for group in "$@"; do
    case $group in
    build)
        need gcc              command -v gcc
        need make             command -v make
        need libpfm4-dev      test -f /usr/include/perfmon/pfmlib.h ;;
    test)
        need libcmocka-dev    test -f /usr/include/cmocka.h
        need python3          command -v python3
        # Google Benchmark's compare.py reads the run folder's gbench.json (tests/test_compare.c);
        # it needs SciPy, which the Debian python3 has even when another python3 comes first on PATH.
        need libbenchmark-tools test -f /usr/share/benchmark/compare.py
        need python3-scipy    sh -c "python3 -c 'import scipy' || /usr/bin/python3 -c 'import scipy'" ;;
    report)
        need gnuplot-nox      command -v gnuplot
        need python3          command -v python3
        need python3-scipy    sh -c "python3 -c 'import scipy' || /usr/bin/python3 -c 'import scipy'" ;;
    bench)
        # bench-core times the core's matmul beside OpenBLAS's sgemm, opened at run time (bench/blas.h)
        need libopenblas-dev  sh -c "ls /usr/lib/*/libopenblas.so.0 /usr/lib/libopenblas.so.0 2>/dev/null | grep -q ." ;;
    mpi)
        need libopenmpi-dev   command -v mpicc
        need openmpi-bin      command -v mpirun ;;
    sim)
        # SimGrid's SMPI (smpicc, smpirun): make sim and tests/test_sim.c
        need libsimgrid-dev   command -v smpirun ;;
    *)
        echo "deps: unknown group '$group' (build, test, report, bench, mpi, sim)" >&2; exit 2 ;;
    esac
done

[ -z "$missing" ] && exit 0
line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ]; then
    echo "$target: installing missing packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || { echo "$target: 'apt-get update' failed; run it by hand, then: $line" >&2; exit 1; }
    apt-get install -y -q --no-install-recommends $missing >/dev/null \
        || { echo "$target: '$line' failed; run it by hand to see why" >&2; exit 1; }
    exit 0
fi
echo "$target: needs Debian packages that are missing:$missing" >&2
echo "$target: as root, run:  $line" >&2
exit 1
