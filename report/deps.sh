#!/bin/sh
# report/deps.sh - makes sure what `make report` needs is here: gnuplot (the
# figures) and SciPy (Google Benchmark's compare.py reads the run folder's
# gbench.json with it; the Debian python3 has it even when another python3
# comes first on PATH).
#
# Checks for each package's files rather than asking dpkg, so a machine that
# has them some other way passes too. As root it installs what is missing with
# apt-get; otherwise it prints the exact apt-get line and fails.
set -u
missing=""
command -v gnuplot >/dev/null 2>&1 || missing="$missing gnuplot-nox"
{ python3 -c 'import scipy' || /usr/bin/python3 -c 'import scipy'; } >/dev/null 2>&1 || missing="$missing python3-scipy"
[ -z "$missing" ] && exit 0
line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" = 0 ]; then
    echo "make report: installing missing packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null; }; } \
        || { echo "make report: '$line' failed; run it by hand to see why" >&2; exit 1; }
    exit 0
fi
echo "make report: missing Debian packages:$missing" >&2
echo "make report: as root, run:  $line" >&2
exit 1
