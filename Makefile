# sphere-bench - build, test, bench, report. `make help` lists the targets.
#
# One program, build/sphere-bench, is made from every .c file under core/,
# dataset/, variants/, bench/ and cli/ (docs/DESIGN.md, "Layout"). Each
# tests/test_*.c is one cmocka binary linked with the same objects (all but
# cli/main.c) and tests/support/*.c.
#
# Each target asks scripts/deps.sh for the packages it needs, no more: `make`
# the compiler and libpfm4, `make mpi` Open MPI, `make report` gnuplot and
# SciPy, `make bench` and `make bench-core` OpenBLAS (their anchor), `make
# test` all of them (it runs everything). As root the script
# installs what is missing; otherwise it names the exact apt-get line.

CC      ?= gcc
ARCH    ?= -march=native
OPT     ?= -O3
CFLAGS  ?= $(OPT) $(ARCH) -g
# -ffp-contract=fast: -std=c11 would otherwise forbid fusing a*b+c into one
# FMA, halving the matrix products' speed; a fused result is still a fixed
# function of the inputs for a given binary.
# -fno-math-errno: nothing reads errno after a math call, and without it
# sqrtf cannot be vectorised.
WARN    := -std=c11 -Wall -Wextra -Werror -Wno-psabi -D_GNU_SOURCE -pthread -ffp-contract=fast -fno-math-errno
# libpfm4 linked statically: the binary must run on a measurement machine
# where libpfm4 cannot be installed. Only libpfm goes static; libc stays shared.
LDLIBS  := -Wl,-Bstatic -lpfm -Wl,-Bdynamic -lm -ldl -pthread
# The CBLAS bench-core times the core's matmul against (bench/blas.h): opened
# with dlopen when bench-core runs, never linked, so the trainers never load
# it. BLAS_LIB=/path/to/libyourblas.so picks another library with cblas_sgemm.
BLAS_LIB ?= libopenblas.so.0
BUILD   ?= build

SRC_DIRS := core dataset variants bench cli
SRCS     := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
MAIN_SRC := cli/main.c
LIB_SRCS := $(filter-out $(MAIN_SRC),$(SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
TEST_SRCS    := $(wildcard tests/test_*.c)
TEST_SUPPORT := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))
TEST_BINS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
PROGRAM  := $(BUILD)/sphere-bench
# The MPI program (mpi/*.c, compiled with mpicc) links the same objects; the
# main program never sees mpi.h.
MPICC    ?= mpicc
MPI_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard mpi/*.c))
MPI_PROGRAM := $(BUILD)/sphere-bench-mpi
# A stamp per package group: $(BUILD)/.deps-GROUP (scripts/deps.sh's groups).
DEPS     = $(BUILD)/.deps-$(1)

.PHONY: all mpi test tsan asan bench bench-core bench-mpi report report-check compare clean help deps

all: $(PROGRAM)

help:
	@echo "make            build $(PROGRAM)"
	@echo "make mpi        build $(MPI_PROGRAM) (the trainers across MPI ranks; mpicc)"
	@echo "make bench-mpi  ping-pong and the three MPI policies, NP=\"1 2 4\" ranks (into the latest run folder)"
	@echo "make test       build and run every cmocka test (installs missing packages as root)"
	@echo "make bench      run the benchmark, a run folder under results/ with its own REPORT.md (QUICK=1: small)"
	@echo "make bench-core time the core's kernels on one thread against the measured peak ($(BUILD)/core.json)"
	@echo "make report     regenerate REPORT.md and its plots from the reference run (RUN=results/FOLDER: FOLDER/REPORT.md)"
	@echo "make report-check  fail if REPORT.md differs from what the reference run generates"
	@echo "make compare A=RUN_A B=RUN_B  B against A per configuration: ratio, 95% interval, U test, verdict"
	@echo "                (FAIL_ABOVE=PCT: exit 1 on a resolved slowdown beyond PCT %)"
	@echo "make tsan       run the in-process tests under ThreadSanitizer (build-tsan/)"
	@echo "make asan       run the in-process tests under AddressSanitizer and UBSan (build-asan/)"
	@echo "make deps       install (as root) or list the Debian packages needed"
	@echo "make clean      remove $(BUILD)/"
	@echo "variables: CC, ARCH (default -march=native), OPT (default -O3; below -O2 GCC does not fuse"
	@echo "           the matmul's multiply-adds, and test_matmul's bitwise check against fmaf fails), BUILD"

deps:
	@sh scripts/deps.sh "make deps" build test report bench mpi sim
# A static pattern rule: the stamps are named targets, so the object rules
# below that need one are chosen before it exists.
DEP_GROUPS := build test report bench mpi sim
$(foreach g,$(DEP_GROUPS),$(call DEPS,$(g))): $(BUILD)/.deps-%: scripts/deps.sh
	@sh scripts/deps.sh "make" $*
	@mkdir -p $(@D) && touch $@

$(BUILD)/%.o: %.c $(call DEPS,build)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -MMD -MP -c $< -o $@

# Tests include cmocka.h (a shorter stem than the rule above, so this one wins).
$(BUILD)/tests/%.o: tests/%.c $(call DEPS,build) $(call DEPS,test)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/mpi/%.o: mpi/%.c $(call DEPS,build) $(call DEPS,mpi)
	@mkdir -p $(@D)
	$(MPICC) $(WARN) $(CFLAGS) -MMD -MP -c $< -o $@

# The corpus must be the same bytes on every machine: no fused multiply-adds
# there, whatever the CPU offers (the last -ffp-contract on the line wins).
# `override`: these per-file flags hold when CFLAGS is given on the command
# line too (the sanitizer builds give it).
$(BUILD)/dataset/corpus.o: override CFLAGS += -ffp-contract=off

# bench-core's BLAS anchor is opened at run time (bench/blas.c), never linked.
$(BUILD)/bench/blas.o: override CFLAGS += -DSB_BLAS_LIB='"$(BLAS_LIB)"'

# The bench records how it was built: the revision, dirty flag and flags are
# fixed at build time (scripts/build_info.sh; rewritten only when they change),
# so the program reports its own revision wherever it runs.
$(BUILD)/build_info.h: FORCE
	@sh scripts/build_info.sh $@ . "$(CC) $(WARN) $(OPT) $(ARCH)"
$(BUILD)/bench/machine.o: $(BUILD)/build_info.h
$(BUILD)/bench/machine.o: override CFLAGS += -I$(BUILD)
.PHONY: FORCE
FORCE:


$(PROGRAM): $(BUILD)/$(MAIN_SRC:.c=.o) $(LIB_OBJS)
	$(CC) $(WARN) $(CFLAGS) $^ -o $@ $(LDLIBS)

mpi: $(MPI_PROGRAM)
$(MPI_PROGRAM): $(MPI_OBJS) $(LIB_OBJS)
	$(MPICC) $(WARN) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB_OBJS) $(TEST_SUPPORT)
	$(CC) $(WARN) $(CFLAGS) $^ -o $@ -lcmocka $(LDLIBS)

.SECONDARY: $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(TEST_SRCS)) $(TEST_SUPPORT)

# Each binary runs from the top of the tree with SPHERE_BENCH pointing at the
# program, so CLI tests exercise exactly what users run. A failing binary fails
# the target, but every binary still runs so one failure does not hide others.
test: $(PROGRAM) $(MPI_PROGRAM) $(TEST_BINS) $(call DEPS,report) $(call DEPS,bench)
	@fail=0; for t in $(TEST_BINS); do \
		echo "== $$t"; \
		SPHERE_BENCH=$(PROGRAM) SPHERE_BENCH_MPI=$(MPI_PROGRAM) TEST_TMPDIR=$(BUILD)/tmp $$t || fail=1; \
	done; \
	echo "== python3 -m unittest discover -s report/tests -t ."; \
	python3 -m unittest discover -s report/tests -t . || fail=1; \
	if [ $$fail -ne 0 ]; then echo "make test: FAILED"; exit 1; fi; \
	echo "make test: all test binaries and the report's tests passed"

# The sanitizers run the tests whose work is in their own process; the
# others run the built programs (tu_cli, mpirun), which the sanitizers would
# not see. Both lists are made from the tests' sources, so a new test joins
# them by itself. Each sanitizer has its own build tree, so instrumented
# objects never mix with the optimised ones; both build at -O2, not -O1: the
# matmul's bitwise test needs GCC's FMA contraction.
TESTS            := $(patsubst tests/%.c,%,$(TEST_SRCS))
PROGRAM_TESTS    := $(patsubst tests/%.c,%,$(shell grep -l 'tu_cli\|mpirun' $(TEST_SRCS)))
IN_PROCESS_TESTS := $(filter-out $(PROGRAM_TESTS),$(TESTS))
# ThreadSanitizer: every in-process test but these, which start no thread and
# whose kernel and gradient checks take minutes under it.
TSAN_SKIP  := test_model test_ref_model test_kernels_attention test_kernels_pointwise test_matmul test_corpus
TSAN_TESTS := $(filter-out $(TSAN_SKIP),$(IN_PROCESS_TESTS))
ASAN_TESTS := $(IN_PROCESS_TESTS)
tsan: $(call DEPS,build) $(call DEPS,test)
	$(MAKE) BUILD=build-tsan OPT=-O2 CFLAGS="-O2 -g $(ARCH) -fsanitize=thread" \
		$(addprefix build-tsan/tests/,$(TSAN_TESTS))
	@mkdir -p build-tsan/tmp
	@for t in $(TSAN_TESTS); do echo "== tsan $$t"; \
		TSAN_OPTIONS=halt_on_error=1 TEST_TMPDIR=build-tsan/tmp build-tsan/tests/$$t || exit 1; done
	@echo "make tsan: no data race reported"

# AddressSanitizer and UndefinedBehaviorSanitizer (any report fails).
asan: $(call DEPS,build) $(call DEPS,test)
	$(MAKE) BUILD=build-asan OPT=-O2 \
		CFLAGS="-O2 -g $(ARCH) -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
		$(addprefix build-asan/tests/,$(ASAN_TESTS))
	@mkdir -p build-asan/tmp
	@for t in $(ASAN_TESTS); do echo "== asan $$t"; \
		TEST_TMPDIR=build-asan/tmp build-asan/tests/$$t || exit 1; done
	@echo "make asan: no memory error, leak or undefined behaviour reported"

# make bench: the main job. QUICK=1 for the small version; BENCH_ARGS for
# anything else `sphere-bench help bench` lists (e.g. BENCH_ARGS="--pin").
bench: $(PROGRAM) $(call DEPS,bench)
	$(PROGRAM) bench $(if $(QUICK),--quick) $(BENCH_ARGS)
	@$(MAKE) --no-print-directory report RUN="$$(cat results/LATEST)"

# Single-thread kernel speed (issue: core speed near the machine's limit).
bench-core: $(PROGRAM) $(call DEPS,bench)
	$(PROGRAM) bench-core --json $(BUILD)/core.json $(CORE_ARGS)

# make bench-mpi: sphere-bench-mpi's bench (ping-pong, then flat, tree and
# allreduce on the same batches) once per rank count in NP, into
# MPI_OUT/np-R/; MPI_OUT defaults to the latest bench run's folder + /mpi, so
# `make report` adds the section "Across processes". On one machine the ranks
# share its cores (--oversubscribe); on a cluster give MPIRUN_ARGS="--hostfile
# FILE" (README.md, "Across machines"). MPI_ARGS: more bench options.
NP          ?= 1 2 4
MPI_THREADS ?= 1
MPI_DATA    ?= data/corpus.tok
MPI_ARGS    ?= --batches 48 --reps 3
MPIRUN_ARGS ?= --oversubscribe
bench-mpi: $(MPI_PROGRAM)
	@sh scripts/mpi_root.sh "make bench-mpi" "$(MPIRUN_ARGS)"
	@out="$(MPI_OUT)"; if [ -z "$$out" ]; then \
		run=$$(cat results/LATEST 2>/dev/null); \
		if [ -z "$$run" ] || [ ! -d "$$run" ]; then echo "make bench-mpi: no run folder in results/LATEST: run make bench (QUICK=1 is enough) first, or give MPI_OUT=DIR" >&2; exit 1; fi; \
		out="$$run/mpi"; fi; \
	for np in $(NP); do \
		echo "== $$np ranks -> $$out/np-$$np"; \
		mpirun $(MPIRUN_ARGS) -np $$np $(MPI_PROGRAM) bench --data $(MPI_DATA) --threads $(MPI_THREADS) \
			--out "$$out/np-$$np" $(MPI_ARGS) || exit 1; \
	done

# make report: a report and the plots (PNG, SVG) of one run folder, by the
# report package (`python3 -m report`, report/) and gnuplot; scripts/deps.sh
# (group report) installs gnuplot and SciPy as root, or names the apt-get line and fails.
# RUN=results/<folder> picks the run and writes RUN/REPORT.md (links relative
# to the folder, so it stands alone); without RUN, the folder named in
# results/REFERENCE into the top-level REPORT.md, the only command that writes
# that file.
# make report-check: regenerates the text of REPORT.md (no plots) from the
# same run into a temporary file and fails, showing the diff, if it differs.
report:
	@sh scripts/deps.sh "make report" report
	python3 -m report $(if $(RUN),"$(RUN)")

report-check:
	@tmp=$$(mktemp) && trap 'rm -f "$$tmp"' EXIT && \
	python3 -m report $(if $(RUN),"$(RUN)") --no-plots --out "$$tmp" --base . >/dev/null && \
	if diff -u REPORT.md "$$tmp"; then echo "make report-check: REPORT.md matches its run"; \
	else echo "make report-check: REPORT.md differs from what python3 -m report writes (run make report)" >&2; exit 1; fi

# make compare: report/compare.py on two run folders (see its header).
compare:
	@[ -n "$(A)" ] && [ -n "$(B)" ] || { echo "make compare: give A=results/RUN_A B=results/RUN_B" >&2; exit 2; }
	python3 -m report.compare "$(A)" "$(B)" $(if $(FAIL_ABOVE),--fail-above $(FAIL_ABOVE)) $(if $(ALLOW_DIFFERENT),--allow-different)

clean:
	rm -rf $(BUILD) build-tsan build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# make sim: sphere-bench-mpi on simulated clusters (SimGrid SMPI, issue 22;
# docs/DESIGN.md, "Simulated clusters"). smpicc builds it into build-smpi/
# (its own objects, -fPIC: smpicc links a shared object, so libpfm is linked
# dynamically); sim/sweep.py then runs real loopback runs, the validation
# and every platform x rank count into SIM_OUT (default: the latest bench
# run's folder + /sim), which `make report` turns into "Beyond this machine
# (simulated)". SIM_RANKS, SIM_PLATFORMS: the sweep's rank counts and
# platforms (sim/sweep.py's defaults otherwise).
SIM_BUILD   := build-smpi
SIM_PROGRAM := $(SIM_BUILD)/sphere-bench-mpi
.PHONY: sim sim-build
sim-build: $(SIM_PROGRAM)
ifneq ($(BUILD),$(SIM_BUILD))
$(SIM_PROGRAM): $(call DEPS,build) $(call DEPS,mpi) $(call DEPS,sim) $(wildcard mpi/*.c mpi/*.h core/*.c core/*.h dataset/*.c variants/*.c variants/*.h bench/*.c cli/*.c)
	$(MAKE) --no-print-directory BUILD=$(SIM_BUILD) MPICC=smpicc CFLAGS="$(OPT) $(ARCH) -g -fPIC" \
		LDLIBS="-lpfm -lm -ldl -pthread" $(SIM_PROGRAM)
endif
sim: $(SIM_PROGRAM) $(PROGRAM) $(MPI_PROGRAM)
	@out="$(SIM_OUT)"; if [ -z "$$out" ]; then \
		run=$$(cat results/LATEST 2>/dev/null); \
		if [ -z "$$run" ] || [ ! -d "$$run" ]; then echo "make sim: no run folder in results/LATEST: run make bench (QUICK=1 is enough) first, or give SIM_OUT=DIR" >&2; exit 1; fi; \
		out="$$run/sim"; fi; \
	python3 sim/sweep.py --out "$$out" --prog-sim $(SIM_PROGRAM) --prog-real $(MPI_PROGRAM) --bench $(PROGRAM) \
		$(if $(SIM_RANKS),--ranks "$(SIM_RANKS)") $(if $(SIM_PLATFORMS),--platforms $(SIM_PLATFORMS))
# tests/test_sim.c runs the simulated program
test: $(SIM_PROGRAM) $(call DEPS,sim)
