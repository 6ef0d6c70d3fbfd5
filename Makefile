# imbill: build, test and demo.  `make demo` and `make test` install what is
# missing (Debian packages only) before they run.

CC       ?= cc
WARN     := -std=c99 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT      ?= -O2
CFLAGS_X := $(WARN) $(OPT) -fPIC -fvisibility=hidden -D_POSIX_C_SOURCE=200809L
CORE_SRC := $(filter-out src/lua_%,$(sort $(wildcard src/*.c)))
BIND_SRC := $(sort $(wildcard src/lua_*.c))
SRC      := $(CORE_SRC) $(BIND_SRC)
HDR      := $(wildcard src/*.h)

LUA54_INC := /usr/include/lua5.4
JIT_INC   := /usr/include/luajit-2.1

B54  := build/5.4/imbill/core.so
BJIT := build/jit/imbill/core.so
BSAN := build/asan/imbill/core.so

LUA_PATH_X := $(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;
BUSTED      = /usr/bin/busted

rockspec:
	@lua5.4 scripts/gen-rockspec.lua

.PHONY: all deps deps-min rockspec demo test test54 testjit testnginx asan valgrind lint bench clean

all: $(B54) $(BJIT)

deps:
	@bash scripts/deps.sh

deps-min:
	@IMBILL_DEPS_MIN=1 bash scripts/deps.sh

$(B54): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_X) -I$(LUA54_INC) -shared -o $@ $(SRC)

$(BJIT): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_X) -I$(JIT_INC) -shared -o $@ $(SRC)

$(BSAN): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O1 -g -fPIC -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  -fno-omit-frame-pointer -I$(LUA54_INC) -shared -o $@ $(SRC)

demo: deps-min $(B54)
	@LUA_PATH='$(LUA_PATH_X)' LUA_CPATH='$(CURDIR)/build/5.4/?.so;;' lua5.4 examples/compare_month.lua

# Every suite writes busted's JSON to build/results; scripts/tally.lua reads them
# all and prints one "N passed, N failed" line.
test: deps all
	@rm -rf build/results && mkdir -p build/results
	@$(MAKE) --no-print-directory test54 testjit testnginx lint; \
	  status=$$?; lua5.4 scripts/tally.lua build/results; t=$$?; \
	  [ $$status -eq 0 ] && [ $$t -eq 0 ]

test54: $(B54)
	@bash scripts/busted.sh 5.4 lua5.4 build/5.4

testjit: $(BJIT)
	@bash scripts/busted.sh jit luajit build/jit

testnginx: $(BJIT)
	@if [ -d spec/nginx ]; then bash scripts/nginx-specs.sh; fi

asan: deps $(BSAN)
	@mkdir -p build/results
	@bash scripts/busted.sh asan lua5.4 build/asan

lint:
	@mkdir -p build/results; luacheck --no-color -q . > build/results/luacheck.txt 2>&1; \
	  s=$$?; cat build/results/luacheck.txt | tail -3; \
	  lua5.4 scripts/lintresult.lua build/results/luacheck.txt build/results/lint.json; exit $$s

valgrind: deps $(B54)
	@mkdir -p build/results
	@bash scripts/valgrind-specs.sh

bench: deps all
	@bash bench/run.sh

clean:
	rm -rf build src/*.o imbill/core.so
