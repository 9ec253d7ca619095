# seqlm -- make, make check, make bench, make install, make demo
#   make asan=1 check      AddressSanitizer + UBSan build (objects in build-asan/)
#   make native=1          -march=native (the default build runs on any x86-64)
# Every common/*.c goes into the library, every tools/*.c is one program,
# every tests/unit/*.c is one TAP test program, every tests/t/*.t a shell test.

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
PYTHON   ?= /usr/bin/python3

PKGS     := htslib zlib openblas libcjson
DEPS_OK  := $(shell pkg-config --exists $(PKGS) 2>/dev/null && echo yes)
ifneq ($(DEPS_OK),yes)
  ifeq ($(filter clean distclean deps,$(MAKECMDGOALS)),)
    $(info seqlm: build dependencies missing; running scripts/install-deps.sh)
    DEPS_RC := $(shell sh scripts/install-deps.sh >&2; echo $$?)
    ifneq ($(DEPS_RC),0)
      $(error scripts/install-deps.sh failed; install htslib, zlib, OpenBLAS and pkg-config development packages)
    endif
  endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

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
  PKG_CFLAGS += -DSEQLM_DNNL
  PKG_LIBS   += $(DNNL_LIBS)
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -pthread
CPPFLAGS += -Icommon $(PKG_CFLAGS) -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
LDLIBS   += $(PKG_LIBS) -lm -pthread

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

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:common/%.c=$(B)/common/%.o)
TOOLS      := $(basename $(notdir $(wildcard tools/*.c)))
PROGS      := $(TOOLS:%=$(BIN)/%)
UNIT_SRC   := $(wildcard tests/unit/*.c)
UNITS      := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
HELP_SRC   := $(wildcard tests/helpers/*.c)
HELPERS    := $(HELP_SRC:tests/helpers/%.c=$(B)/tests/%)
SHELL_T    := $(wildcard tests/t/*.t)
MAN        := $(wildcard man/*.1 man/*.5)

.PHONY: all check unit bench demo install uninstall clean golden deps fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: $(LIB) $(PROGS)

$(B)/common/%.o: common/%.c $(wildcard common/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# only dist.o speaks MPI, and only the programs that call it link it
ifneq ($(MPI_LIBS),)
$(B)/common/dist.o: CPPFLAGS += $(MPI_CFLAGS) -DSEQLM_MPI
$(BIN)/lmtrain $(B)/tests/test_dist: LDLIBS += $(MPI_LIBS)
endif

$(LIB): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(B)/tools/%.o: tools/%.c $(wildcard common/*.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BIN)/%: $(B)/tools/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/tap.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(B)/tests/%: tests/helpers/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The tests: C unit programs and shell scripts, all TAP, run by prove.
# SEQLM_BIN tells the shell tests which build to exercise.
check: $(PROGS) $(UNITS) $(HELPERS)
	SEQLM_BIN=$(CURDIR)/$(BIN) SEQLM_TESTBIN=$(CURDIR)/$(B)/tests PYTHON=$(PYTHON) \
	  prove --exec '' $(UNITS) $(SHELL_T)

bench: $(PROGS) $(HELPERS)
	SEQLM_BIN=$(CURDIR)/$(BIN) SEQLM_TESTBIN=$(CURDIR)/$(B)/tests PYTHON=$(PYTHON) sh bench/run.sh

demo: $(PROGS)
	SEQLM_BIN=$(CURDIR)/$(BIN) sh examples/quick.sh

golden:
	$(PYTHON) tests/golden/make_fixtures.py tests/data

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

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/memfile.h $(COMMON_SRC) $(wildcard common/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Itests/fuzz \
	  $(CPPFLAGS) -o $@ $< $(COMMON_SRC) $(LDLIBS)

deps:
	sh scripts/install-deps.sh

clean:
	rm -rf build build-asan build-fuzz bin common/libcommon.a tests/tmp
