# imbill: build, test and demo.  `make demo` and `make test` install what is
# missing (Debian packages only) before they run.  A bare `make` builds the
# module for Lua 5.4 and for LuaJIT.
#
# Layout of build/:
#   build/core/libimbill.a     the C core alone, compiled without any Lua header
#   build/FLAVOUR/imbill/core.so   the module; FLAVOUR is 5.4, jit, asan or rock
#   build/FLAVOUR/obj/...      per-object files with their dependency (.d) files
#   build/results/             every suite's results, counted by scripts/tally.lua

CC       ?= cc
WARN     := -std=c99 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT      ?= -O2
CPPFLAGS_X := -Iinclude -Isrc/core -D_POSIX_C_SOURCE=200809L
# the batch pricing and the grid run on POSIX threads (src/core/threads.c)
LIBS     := -pthread
SANITIZE := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# ThreadSanitizer cannot be combined with ASan: its own build of the core and module
TSAN     := -O1 -g -fsanitize=thread -fno-omit-frame-pointer

CORE_SRC := $(sort $(wildcard src/core/*.c))
BIND_SRC := $(sort $(wildcard src/lua/*.c))
CTEST_SRC := $(sort $(wildcard spec/core/*_test.c))

LUA54_INC := /usr/include/lua5.4
JIT_INC   := /usr/include/luajit-2.1
LUA_PATH_X := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;

.PHONY: all deps deps-min demo test test54 testjit testcore testredis testnotebooks asan tsan valgrind lint bench clean \
        rock rock-install cdef fuzz fuzz-build fuzz-api notebook docs

all: build/5.4/imbill/core.so build/jit/imbill/core.so

# One flavour of the module: $(1) name, $(2) Lua include dir, $(3) extra flags.
define flavour
$(1)_OBJ := $(patsubst src/%.c,build/$(1)/obj/%.o,$(CORE_SRC) $(BIND_SRC))
build/$(1)/obj/core/%.o: src/core/%.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(WARN) $(3) -fPIC $$(CPPFLAGS_X) -MMD -MP -c -o $$@ $$<
build/$(1)/obj/lua/%.o: src/lua/%.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(WARN) $(3) -fPIC $$(CPPFLAGS_X) -I$(2) -MMD -MP -c -o $$@ $$<
build/$(1)/imbill/core.so: $$($(1)_OBJ)
	@mkdir -p $$(dir $$@)
	$$(CC) $(3) -shared -o $$@ $$^ $(LIBS)
-include $$($(1)_OBJ:.o=.d)
endef

$(eval $(call flavour,5.4,$(LUA54_INC),$(OPT)))
$(eval $(call flavour,jit,$(JIT_INC),$(OPT)))
$(eval $(call flavour,asan,$(LUA54_INC),$(SANITIZE)))
$(eval $(call flavour,tsan,$(LUA54_INC),$(TSAN)))

# The core on its own: no Lua include path, so a stray lua.h is a build error.
CORE_OBJ := $(patsubst src/core/%.c,build/core/obj/%.o,$(CORE_SRC))
build/core/obj/%.o: src/core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) -fPIC $(CPPFLAGS_X) -MMD -MP -c -o $@ $<
build/core/libimbill.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^
-include $(CORE_OBJ:.o=.d)

build/core/tests: $(CTEST_SRC) spec/core/ctest.h build/core/libimbill.a
	$(CC) $(WARN) $(OPT) $(CPPFLAGS_X) -Ispec/core -o $@ $(CTEST_SRC) build/core/libimbill.a $(LIBS)

# The core and its tests again under ThreadSanitizer (make tsan).
TSAN_CORE_OBJ := $(patsubst src/core/%.c,build/tsan/core/obj/%.o,$(CORE_SRC))
build/tsan/core/obj/%.o: src/core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(TSAN) -fPIC $(CPPFLAGS_X) -MMD -MP -c -o $@ $<
build/tsan/core/libimbill.a: $(TSAN_CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^
-include $(TSAN_CORE_OBJ:.o=.d)
build/tsan/core/tests: $(CTEST_SRC) spec/core/ctest.h build/tsan/core/libimbill.a
	$(CC) $(WARN) $(TSAN) $(CPPFLAGS_X) -Ispec/core -o $@ $(CTEST_SRC) build/tsan/core/libimbill.a $(LIBS)

deps:
	@bash scripts/deps.sh

deps-min:
	@IMBILL_DEPS_MIN=1 bash scripts/deps.sh

demo: deps-min build/5.4/imbill/core.so
	@LUA_PATH='$(LUA_PATH_X)' LUA_CPATH='$(CURDIR)/build/5.4/?.so;;' lua5.4 examples/compare_month.lua

# Every suite writes its results to build/results; scripts/tally.lua reads them
# all and prints one "N passed, N failed" line.
test: deps all
	@rm -rf build/results && mkdir -p build/results
	@status=0; for t in testcore test54 testjit lint testnginx testredis testnotebooks; do \
	  $(MAKE) --no-print-directory $$t || status=1; done; \
	  lua5.4 scripts/tally.lua build/results --expect core,5.4,jit,lint,nginx,redis,notebooks; t=$$?; \
	  [ $$status -eq 0 ] && [ $$t -eq 0 ]

testcore: build/core/tests
	@mkdir -p build/results
	@echo "== the C core's own tests (no Lua)"
	@build/core/tests build/results/core.json; s=$$?; lua5.4 scripts/tally.lua --one build/results/core.json; exit $$s

test54: build/5.4/imbill/core.so
	@bash scripts/busted.sh 5.4 lua5.4 build/5.4

testjit: build/jit/imbill/core.so
	@bash scripts/busted.sh jit luajit build/jit

# The gateway in a real nginx (4 workers) on loopback, with a stub of
# Tencent's REST API (scripts/nginx-specs.sh; docs/gateway.md).
testnginx: build/jit/imbill/core.so
	@bash scripts/nginx-specs.sh

# The gateway's Redis store against real servers on loopback: one Redis, a
# 3-master Redis Cluster, two nginx nodes of two workers sharing them
# (scripts/redis-specs.sh; docs/fleet.md).
testredis: build/jit/imbill/core.so
	@bash scripts/redis-specs.sh

# The imbill Jupyter kernel, the example notebooks executed headless, and
# their HTML export checked in Chromium (scripts/notebook-specs.sh).
testnotebooks: build/jit/imbill/core.so
	@bash scripts/notebook-specs.sh

# Installs what is missing, builds, registers the imbill kernel for this
# user and starts Jupyter on examples/notebooks (docs/notebooks.md).
notebook:
	@bash scripts/notebook.sh

asan: deps build/asan/imbill/core.so
	@mkdir -p build/results
	@bash scripts/busted.sh asan lua5.4 build/asan

# The threaded code under ThreadSanitizer: the core's tests, then the specs
# that run threads (batch pricing, the grid, columns, the stop hook) on Lua 5.4
# with libtsan preloaded (scripts/busted.sh).  Results: build/results/tsan-core
# and build/results/tsan; a race fails the suite with TSan's report.
TSAN_SPECS := spec/stop_spec.lua $(sort $(wildcard spec/*column*_spec.lua spec/*grid*_spec.lua spec/*totals*_spec.lua))
tsan: build/tsan/core/tests build/tsan/imbill/core.so
	@mkdir -p build/results
	@echo "== the C core's own tests under ThreadSanitizer"
	@TSAN_OPTIONS="halt_on_error=1:suppressions=$(CURDIR)/scripts/tsan.supp" build/tsan/core/tests \
	  build/results/tsan-core.json 2> build/results/tsan-core.err; s=$$?; \
	  lua5.4 scripts/tally.lua --one build/results/tsan-core.json build/results/tsan-core.err; \
	  bash scripts/busted.sh tsan lua5.4 build/tsan $(TSAN_SPECS) || s=1; exit $$s

lint:
	@mkdir -p build/results; luacheck --no-color -q . > build/results/luacheck.txt 2>&1; \
	  s=$$?; cat build/results/luacheck.txt | tail -3; \
	  lua5.4 scripts/lintresult.lua build/results/luacheck.txt build/results/lint.json; exit $$s

valgrind: deps build/5.4/imbill/core.so
	@mkdir -p build/results
	@bash scripts/valgrind-specs.sh

bench: deps all
	@bash bench/run.sh

# The API reference in build/doc/, made by LDoc from the doc comments of the
# public modules (config.ld).  LDoc reports a problem as a line of its own and
# still writes the pages, so any line beyond its two progress lines fails the
# target, with LDoc's whole output shown.
docs: deps
	@rm -rf build/doc && mkdir -p build
	@ldoc . > build/ldoc.log 2>&1; s=$$?; \
	  if [ $$s -ne 0 ] || grep -v -e '^reading configuration from config\.ld$$' -e '^output written to ' \
	      build/ldoc.log | grep -q .; then \
	    cat build/ldoc.log; echo "make docs: ldoc reported the problems above"; exit 1; fi; \
	  echo "docs: build/doc/index.html"

# The FFI declarations are copied from include/imbill.h.
cdef:
	@lua5.4 scripts/gen-cdef.lua

# luarocks (imbill-dev-1.rockspec, build type "make") calls these two with
# its own LUA_INCDIR, CFLAGS and install directories: the same warnings, the
# same standard and the same hidden symbols as every other build.
ROCK_CFLAGS ?= -O2 -fPIC
LIBFLAG ?= -shared
rock:
	$(MAKE) --no-print-directory build/rock/imbill/core.so ROCK_INC='$(LUA_INCDIR)'
build/rock/imbill/core.so: $(CORE_SRC) $(BIND_SRC) include/imbill.h $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(ROCK_CFLAGS) $(CPPFLAGS_X) -I$(ROCK_INC) $(LIBFLAG) -o $@ $(CORE_SRC) $(BIND_SRC) $(LIBS)

rock-install:
	install -d '$(INST_LIBDIR)/imbill' '$(INST_BINDIR)'
	install -m 0755 build/rock/imbill/core.so '$(INST_LIBDIR)/imbill/core.so'
	cd lua && find imbill -name '*.lua' | while read f; do \
	  install -d "$(INST_LUADIR)/$$(dirname $$f)" && install -m 0644 "$$f" "$(INST_LUADIR)/$$f" || exit 1; done
	install -m 0755 bin/imbill '$(INST_BINDIR)/imbill'

# ---- fuzzing --------------------------------------------------------------
# One libFuzzer target per file in fuzz/ (money, dates, months, time zones,
# the meter file loader, ...), built with clang against the core alone;
# fuzz/corpus/<target>/ holds each one's seeds.  `make fuzz` runs every
# target for FUZZ_SECONDS (default 30: about three minutes in all);
# `scripts/fuzz.sh --ci` runs each for a bounded number of inputs and writes
# build/results/fuzz.json.  A new parser gets a new fuzz/<name>.c: it is
# picked up here without more.
FUZZ_CC      ?= clang
FUZZ_SAN     := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 30
FUZZ_SRC     := $(sort $(wildcard fuzz/*.c))
FUZZ_BIN     := $(patsubst fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
FUZZ_OBJ     := $(patsubst src/core/%.c,build/fuzz/obj/%.o,$(CORE_SRC))
build/fuzz/obj/%.o: src/core/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(CPPFLAGS_X) -MMD -MP -c -o $@ $<
build/fuzz/%: fuzz/%.c $(wildcard fuzz/*.h) $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer $(CPPFLAGS_X) -Ifuzz -o $@ $< $(FUZZ_OBJ) $(LIBS)
-include $(FUZZ_OBJ:.o=.d)
.SECONDARY: $(FUZZ_OBJ)

# The Lua API fuzzer (fuzz/api/): every public function with junk, on Lua 5.4,
# LuaJIT and 5.4 with the ASan build; --ci is a short bounded pass.
fuzz-api: all build/asan/imbill/core.so
	@bash scripts/fuzz-api.sh --ci

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@bash scripts/fuzz.sh --seconds $(FUZZ_SECONDS)

clean:
	rm -rf build
