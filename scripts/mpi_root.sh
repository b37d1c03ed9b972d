#!/bin/sh
# mpi_root.sh - stops a make target that starts mpirun as root, before mpirun
# does, with the reason and the commands that would work.
#
# usage: mpi_root.sh TARGET MPIRUN-ARGS   (TARGET names the make target in messages)
# Open MPI's mpirun refuses to start as root unless told so (by the switch
# --allow-run-as-root, or by both OMPI_ALLOW_RUN_AS_ROOT=1 and
# OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1), and its own message names neither make
# variable nor the reason. This script passes (exit 0) when the user is not
# root, or when the user has told mpirun already; it never tells it for them.
set -u
target=${1:-make}
args=${2:-}
[ "$(id -u)" -ne 0 ] && exit 0
case " $args " in *" --allow-run-as-root "*) exit 0 ;; esac
if [ "${OMPI_ALLOW_RUN_AS_ROOT:-}" = 1 ] && [ "${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-}" = 1 ]; then exit 0; fi
cat >&2 <<MSG
$target: running as root, and Open MPI's mpirun refuses root: every rank it
starts would run with root's rights on every host of the job, where a bug or
a wrong hostfile can damage the system. Run it as an ordinary user, from a
clone of this repository that the user owns, for example:
    runuser -u USER -- $target
or, taking that risk on this machine knowingly, tell mpirun so:
    $target MPIRUN_ARGS="$args --allow-run-as-root"
MSG
exit 1
