# SPDX-License-Identifier: BSD-3-Clause
# railbench: one non-recursive Makefile. Out-of-tree build in $(BUILD).
#   make            build everything into build/
#   make run        install deps, build, run the default battery (4 local ranks)
#   make test       build and run the whole test suite
#   make DEBUG=1    -O0 with AddressSanitizer + UBSan (BUILD defaults to build-san)
#   make fuzz       libFuzzer targets (clang) into build-fuzz/fuzz/
# Optional features are detected once and can be forced off: VERBS=0 CUDA=0 NCCL=0.

ifeq ($(FUZZ),1)
BUILD ?= build-fuzz
else ifeq ($(DEBUG),1)
BUILD ?= build-san
else
BUILD ?= build
endif
CUDA_HOME ?= /usr/local/cuda

CC := gcc
PKGS := mpich hwloc jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# ---- feature detection (overridable: make VERBS=0) ----
VERBS ?= $(if $(wildcard /usr/include/infiniband/verbs.h),1,0)
CUDA ?= $(if $(wildcard $(CUDA_HOME)/include/cuda_runtime.h),1,0)
NCCL ?= $(if $(and $(filter 1,$(CUDA)),$(wildcard $(CUDA_HOME)/include/nccl.h)),1,0)

CPPFLAGS := -I. -D_GNU_SOURCE $(PKG_CFLAGS)
CFLAGS := -std=c11 -Wall -Wextra -Werror -g -MMD -MP
LDLIBS := $(PKG_LIBS) -lm -lpthread -lrt
ifeq ($(DEBUG),1)
CFLAGS += -O0 -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
CFLAGS += -O2
endif
# FUZZ=1: the whole library instrumented for libFuzzer, with ASan + UBSan.
ifeq ($(FUZZ),1)
CC := clang
CFLAGS := $(filter-out -O2,$(CFLAGS)) -O1 -fno-omit-frame-pointer \
	  -fsanitize=fuzzer-no-link,address,undefined \
	  -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

FEATURES :=
ifeq ($(VERBS),1)
CPPFLAGS += -DHAVE_VERBS
LDLIBS += -libverbs
FEATURES += verbs
endif
ifeq ($(CUDA),1)
CPPFLAGS += -DHAVE_CUDA -I$(CUDA_HOME)/include
LDLIBS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart
FEATURES += cuda
endif
ifeq ($(NCCL),1)
CPPFLAGS += -DHAVE_NCCL
LDLIBS += -lnccl
FEATURES += nccl
endif

GIT_SHA := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
GIT_DIRTY := $(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
BUILD_CONFIG := $(strip $(if $(filter 1,$(DEBUG)),debug-san,release) $(FEATURES))
CPPFLAGS += -DRB_SRCDIR='"$(CURDIR)"'
VERSION_FLAGS := -DRB_GIT_SHA='"$(GIT_SHA)$(GIT_DIRTY)"' \
		 -DRB_BUILD_CONFIG='"$(BUILD_CONFIG)"'

# ---- sources ----
# Files that need an optional feature are compiled only when it is on.
VERBS_SRCS := transports/ibv.c transports/ibv_conn.c transports/ibv_dev.c
CUDA_SRCS := transports/cuda_ipc.c transports/mem_cuda.c
NCCL_SRCS := transports/nccl.c
OPT_SRCS := $(VERBS_SRCS) $(CUDA_SRCS) $(NCCL_SRCS)

# Each binary's main: bench/<name>_bench.c and bench/topo_map.c -> bin/<name>
BIN_MAINS := $(wildcard bench/*_bench.c bench/topo_map.c)
LIB_SRCS := $(wildcard common/*.c) $(wildcard collectives/*.c) \
	    $(wildcard topo/*.c) \
	    $(filter-out $(OPT_SRCS),$(wildcard transports/*.c)) \
	    $(filter-out $(BIN_MAINS),$(wildcard bench/*.c))
ifeq ($(VERBS),1)
LIB_SRCS += $(wildcard $(VERBS_SRCS))
endif
ifeq ($(CUDA),1)
LIB_SRCS += $(wildcard $(CUDA_SRCS))
endif
ifeq ($(NCCL),1)
LIB_SRCS += $(wildcard $(NCCL_SRCS))
endif

OBJ := $(BUILD)/obj
LIB := $(BUILD)/librailbench.a
LIB_OBJS := $(LIB_SRCS:%.c=$(OBJ)/%.o)

BINS := $(patsubst bench/%.c,$(BUILD)/bin/%,$(BIN_MAINS))

# Unit tests: tests/<suite>/test_*.c, each its own cmocka binary; the other
# .c files of tests/unit are support code linked into every test.
UNIT_SUPPORT := $(filter-out $(wildcard tests/unit/test_*.c),$(wildcard tests/unit/*.c))
UNIT_SUPPORT_OBJS := $(UNIT_SUPPORT:%.c=$(OBJ)/%.o)
TEST_SRCS := $(wildcard tests/unit/test_*.c tests/topo/test_*.c)
TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
# Fuzz targets: every tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput
# and is linked with the whole library and FUZZ_LIBS: a new target needs no
# other change here. Corpus: tests/fuzz/corpus/fuzz_<name>/; inputs that
# once failed: tests/fuzz/regress/fuzz_<name>/.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_LIBS :=
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
# The same targets built by the normal compiler with a replaying main
# (tests/fuzz/replay.c): they run every corpus and regression input once,
# as unit tests (and under the sanitizers in make test-san).
FUZZ_REPLAYS := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/tests/unit/test_fuzz_%,$(FUZZ_SRCS))
# Helper programs for shell tests (run under mpiexec): tests/progs/*.c.
PROG_SRCS := $(wildcard tests/progs/*.c)
PROGS := $(patsubst tests/progs/%.c,$(BUILD)/tests/progs/%,$(PROG_SRCS))

ifeq ($(V),1)
Q :=
else
Q := @
endif


.PHONY: FORCE all deps run test test-unit test-san check lint format clean bench \
	fuzz fuzz-bins
all: $(BINS) $(TESTS) $(PROGS) $(FUZZ_REPLAYS)

deps:
	@scripts/install-deps.sh

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# The build identity is recompiled every time (FORCE) so it is never stale.
$(OBJ)/common/version.o: common/version.c FORCE
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(VERSION_FLAGS) $(CFLAGS) -c $< -o $@

FORCE:

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/%: $(OBJ)/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/%: $(OBJ)/tests/%.o $(UNIT_SUPPORT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $< $(UNIT_SUPPORT_OBJS) $(LIB) $(LDLIBS) -lcmocka -o $@

$(BUILD)/tests/unit/test_fuzz_%: $(OBJ)/tests/fuzz/fuzz_%.o $(OBJ)/tests/fuzz/replay.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $< $(OBJ)/tests/fuzz/replay.o $(LIB) $(LDLIBS) $(FUZZ_LIBS) -o $@

$(BUILD)/fuzz/%: $(OBJ)/tests/fuzz/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer $< $(LIB) $(LDLIBS) $(FUZZ_LIBS) -o $@

$(BUILD)/tests/progs/%: $(OBJ)/tests/progs/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

# The main job: deps, build, the default battery on this machine.
run: deps
	$(MAKE) all
	BUILD=$(BUILD) scripts/run-default.sh

# The whole suite (installs what it needs first); prints
# "N passed, N failed, N skipped" last.
test: deps
	$(MAKE) all
	BUILD=$(BUILD) tests/run.sh

# Unit tests only.
test-unit: all
	BUILD=$(BUILD) tests/run.sh unit topo

# AddressSanitizer + UBSan build: unit tests and a small end-to-end run.
test-san:
	$(MAKE) DEBUG=1 BUILD=build-san all
	BUILD=build-san tests/run.sh unit topo san

# libFuzzer targets; tests/fuzz/run.sh SECONDS runs each (.ci/run does).
fuzz:
	$(MAKE) FUZZ=1 BUILD=build-fuzz fuzz-bins

fuzz-bins: $(FUZZ_BINS)

bench: all
	scripts/bench-shm-vs-mpi.sh

lint:
	cppcheck --quiet --error-exitcode=1 --std=c11 -I. \
		--suppress=missingIncludeSystem common collectives transports topo bench

check: test lint

format:
	clang-format -i $(LIB_SRCS) $(BIN_MAINS) $(TEST_SRCS)

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJS:.o=.d) $(BIN_MAINS:%.c=$(OBJ)/%.d) $(TEST_SRCS:%.c=$(OBJ)/%.d) \
	 $(PROG_SRCS:%.c=$(OBJ)/%.d) $(FUZZ_SRCS:%.c=$(OBJ)/%.d) \
	 $(OBJ)/tests/fuzz/replay.d
