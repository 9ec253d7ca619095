# seqlm -- make, make check, make bench, make install, make demo
#   make asan=1 check      AddressSanitizer + UBSan build (objects in build-asan/)
#   make native=1          -march=native (the default build runs on any x86-64)
# Every common/*/*.c goes into the library (common/ is grouped by concern,
# each group using only those before it: base, io, tok, model, analysis), every tools/*.c is one program,
# every tests/unit/*.c is one TAP test program, every tests/t/*.t a shell test.

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
PYTHON   ?= /usr/bin/python3

PKGS     := htslib zlib openblas libcjson
# pkg-config runs once, when a recipe first needs the flags: after the deps
# target below has installed what was missing (a fresh clone may have no
# pkg-config at all while this file is read)
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS) 2>/dev/null))$(PKG_LIBS)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -pthread
CPPFLAGS += -Icommon $(PKG_CFLAGS) -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
DEPFLAGS := -MMD -MP
LDLIBS   += $(PKG_LIBS) -lm -pthread

# oneDNN (optional, for --precision bf16): Debian's libdnnl-dev ships no
# pkg-config file, so it is found by compiling and linking a use of its
# header; `make dnnl=0` builds without it.  Its OpenMP runtime (libgomp) is
# linked too: mm_dnnl.c sets it to one thread per caller.
ifneq ($(dnnl),0)
  DNNL_LIBS := $(shell pkg-config --libs dnnl 2>/dev/null || echo -ldnnl) -lgomp
  DNNL_OK   := $(shell printf '\043include <oneapi/dnnl/dnnl.h>\nint main(void) { return dnnl_get_effective_cpu_isa() == dnnl_cpu_isa_all; }\n' | \
                 $(CC) -x c - -o /dev/null $(DNNL_LIBS) >/dev/null 2>&1 && echo yes)
endif
ifeq ($(DNNL_OK),yes)
  CPPFLAGS += -DSEQLM_DNNL
  LDLIBS   += $(DNNL_LIBS)
endif

ifeq ($(asan),1)
  B        := build-asan
  CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS  += -fsanitize=address,undefined
  LIB      := $(B)/libcommon.a
  BIN      := $(B)/bin
else
  B        := build
  LIB      := common/libcommon.a
  BIN      := bin
endif
# Open MPI for data-parallel lmtrain (optional: without mpicc, lmtrain is
# built for one process and says so under --version; mpi=0 turns it off)
MPICC    ?= mpicc
ifneq ($(mpi),0)
  MPI_CFLAGS := $(shell $(MPICC) --showme:compile 2>/dev/null)
  MPI_LIBS   := $(shell $(MPICC) --showme:link 2>/dev/null)
endif
ifeq ($(native),1)
  CFLAGS   += -march=native
endif

# metrics.c compiles its vector kernels for AVX2 and AVX-512 itself and picks
# one at run time, so -march=native would only stop its always-inline helpers
# from inlining into those kernels; and it passes vectors only between
# functions it inlines, so GCC's note that the ABI of 64-byte vector
# arguments changed in GCC 4.6 does not concern it
$(B)/common/analysis/metrics.o: CFLAGS := $(filter-out -march=native,$(CFLAGS)) -Wno-psabi

COMMON_SRC := $(wildcard common/*/*.c)
COMMON_OBJ := $(COMMON_SRC:common/%.c=$(B)/common/%.o)
TOOLS      := $(basename $(notdir $(wildcard tools/*.c)))
PROGS      := $(TOOLS:%=$(BIN)/%)
UNIT_SRC   := $(wildcard tests/unit/*.c)
UNITS      := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
HELP_SRC   := $(wildcard tests/helpers/*.c)
HELPERS    := $(HELP_SRC:tests/helpers/%.c=$(B)/tests/%)
SHELL_T    := $(wildcard tests/t/*.t)
MAN        := $(wildcard man/*.1 man/*.5)

.PHONY: all check unit bench demo install uninstall clean golden golden-families golden-families-check deps fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: $(LIB) $(PROGS)

# Build and test dependencies: a quick check (one dpkg-query or a few
# pkg-config calls) that installs nothing when all is there; otherwise
# scripts/install-deps.sh installs what is missing (as root on Debian) or
# says what to install.  Everything that compiles waits for it.
deps:
	@sh scripts/install-deps.sh

# each object depends on the headers it includes (-MMD -MP writes the .d files)
$(B)/common/%.o: common/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

# only dist.o speaks MPI, and only the programs that call it link it
ifneq ($(MPI_LIBS),)
$(B)/common/base/dist.o: CPPFLAGS += $(MPI_CFLAGS) -DSEQLM_MPI
$(BIN)/lmtrain $(B)/tests/test_dist: LDLIBS += $(MPI_LIBS)
endif

$(LIB): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/tools/%.o: tools/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BIN)/%: $(B)/tools/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(B)/tests/%: tests/helpers/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The tests: C unit programs and shell scripts, all TAP, run by prove.
# SEQLM_BIN tells the shell tests which build to exercise.
check: deps $(PROGS) $(UNITS) $(HELPERS)
	SEQLM_BIN=$(CURDIR)/$(BIN) SEQLM_TESTBIN=$(CURDIR)/$(B)/tests PYTHON=$(PYTHON) \
	  prove --exec '' $(UNITS) $(SHELL_T)

bench: $(PROGS) $(HELPERS)
	SEQLM_BIN=$(CURDIR)/$(BIN) SEQLM_TESTBIN=$(CURDIR)/$(B)/tests PYTHON=$(PYTHON) sh bench/run.sh

# the outputs go to a temporary folder, removed at the end; to keep them:
# examples/quick.sh DIR (quick.sh says so as it starts)
demo: deps $(PROGS)
	SEQLM_BIN=$(CURDIR)/$(BIN) sh examples/quick.sh

golden:
	$(PYTHON) tests/golden/make_fixtures.py tests/data

# issue 23's PyTorch references for ESM/NT v1+v2, GENA-LM and DNABERT-2
# (tests/golden/families/; -check regenerates them and compares bytes, and
# checks the harness against lmprobe/fisherflow's BERT fixtures)
golden-families:
	$(PYTHON) tests/golden/families/make_families.py

golden-families-check: $(PROGS)
	$(PYTHON) tests/golden/families/make_families.py --check
	$(PYTHON) tests/golden/families/harness_check.py $(BIN)

install: $(PROGS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(PREFIX)/share/man/man5/

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(PREFIX)/bin/%)
	rm -f $(notdir $(wildcard man/*.1):%=$(DESTDIR)$(PREFIX)/share/man/man1/%)
	rm -f $(notdir $(wildcard man/*.5):%=$(DESTDIR)$(PREFIX)/share/man/man5/%)

# libFuzzer harnesses (clang + libclang-rt-14-dev), ASan + UBSan; each runs
# FUZZ_SECONDS over its committed seed corpus plus what it finds; memory is
# limited by RSS (4 GB), not by the size of one malloc (tests/fuzz/README.md)
FUZZ_SECONDS ?= 30
FUZZ_CC      ?= clang
FUZZERS      := $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
fuzz: $(FUZZERS:%=build-fuzz/%)
	@for f in $(FUZZERS); do \
	  mkdir -p build-fuzz/corpus/$$f tests/fuzz/corpus/$$f; \
	  echo "== $$f ($(FUZZ_SECONDS) s)"; \
	  build-fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -rss_limit_mb=4096 -malloc_limit_mb=1048576 \
	    -artifact_prefix=build-fuzz/$$f- build-fuzz/corpus/$$f tests/fuzz/corpus/$$f 2>build-fuzz/$$f.log \
	    || { tail -n 60 build-fuzz/$$f.log; exit 1; }; \
	  grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' build-fuzz/$$f.log; \
	  grep -Eo 'cov: [0-9]+ ft: [0-9]+' build-fuzz/$$f.log | tail -n 1; \
	done

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/memfile.h $(COMMON_SRC) $(wildcard common/*/*.h) | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Itests/fuzz \
	  $(CPPFLAGS) -o $@ $< $(COMMON_SRC) $(LDLIBS)

-include $(COMMON_OBJ:.o=.d) $(PROGS:$(BIN)/%=$(B)/tools/%.d) $(UNITS:=.d) $(HELPERS:=.d)

clean:
	rm -rf build build-asan build-fuzz bin common/libcommon.a tests/tmp
