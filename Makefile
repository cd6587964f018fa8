# Makefile - builds bin/wvetl, its tests, demo and benchmark.
#
#   make            bin/wvetl (optimized, with debug symbols)
#   make test       install missing packages, build, unit + integration tests
#   make test-citus the integration tests on a throwaway Citus cluster
#                   (Citus installed, or CITUS_SRC=DIR; see README)
#   make bench-citus a window on Citus against one node (needs Citus)
#   make demo       install missing packages, build, local PostgreSQL + API, a load
#   make bench      throughput and memory against PostgreSQL's own COPY
#   make fuzz       libFuzzer target over the transform
#   make install    PREFIX=/usr/local DESTDIR=
#   V=1 shows commands; DEVELOPER=1 turns warnings into errors.

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libcurl yajl libpq zlib glib-2.0 libxxhash

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wpointer-arith -Wvla -Wno-unused-parameter
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -I. -g $(WARN) $(PKG_CFLAGS) -MMD -MP
OPT_CFLAGS := -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2
SAN_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
override CFLAGS := $(BASE_CFLAGS) $(CFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Everything but the command line (main.c and cli/) goes into a library
# that tests link against.
LIB_SRCS := $(sort $(wildcard common/*.c extract/*.c transform/*.c load/*.c)) pipeline.c pipeline_attempt.c
CLI_SRCS := main.c $(sort $(wildcard cli/*.c))
SQL_FILES := $(sort $(wildcard sql/[0-9][0-9][0-9]_*.sql))
CITUS_SQL_FILES := $(sort $(wildcard sql/citus/[0-9][0-9][0-9]_*.sql))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))

OBJ_OPT := $(LIB_SRCS:%.c=build/opt/%.o) build/opt/sql_embed.o
OBJ_SAN := $(LIB_SRCS:%.c=build/san/%.o) build/san/sql_embed.o
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=build/san/tests/%)

.PHONY: all san unit test test-citus bench-citus integration demo demo-stop bench ab bench-bi fuzz valgrind install clean deps format check
all: bin/wvetl

build/sql_embed.c: $(SQL_FILES) $(CITUS_SQL_FILES) tools/embed-sql.sh
	@mkdir -p $(@D)
	$(Q){ sh tools/embed-sql.sh sql_migrations $(SQL_FILES) && \
		sh tools/embed-sql.sh sql_citus_steps $(CITUS_SQL_FILES); } > $@.tmp && mv $@.tmp $@

build/opt/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(OPT_CFLAGS) -c $< -o $@

build/san/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC san  $<")
	$(Q)$(CC) $(CFLAGS) $(SAN_CFLAGS) -c $< -o $@

build/opt/sql_embed.o: build/sql_embed.c
	$(Q)$(CC) $(CFLAGS) $(OPT_CFLAGS) -c $< -o $@
build/san/sql_embed.o: build/sql_embed.c
	$(Q)$(CC) $(CFLAGS) $(SAN_CFLAGS) -c $< -o $@

build/opt/libwvetl.a: $(OBJ_OPT)
	$(Q)rm -f $@ && ar rcs $@ $^
build/san/libwvetl.a: $(OBJ_SAN)
	$(Q)rm -f $@ && ar rcs $@ $^

bin/wvetl: $(CLI_SRCS:%.c=build/opt/%.o) build/opt/libwvetl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(OPT_CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

# The sanitizer build the tests run.
build/san/wvetl: $(CLI_SRCS:%.c=build/san/%.o) build/san/libwvetl.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_CFLAGS) -o $@ $^ $(PKG_LIBS) -lm
san: build/san/wvetl

build/san/tests/%: tests/unit/%.c build/san/libwvetl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(SAN_CFLAGS) -o $@ $< build/san/libwvetl.a $(PKG_LIBS) $(CMOCKA_LIBS) -lm

deps:
	$(Q)sh tools/install-deps.sh

unit: $(UNIT_BINS)
	$(Q)sh tests/run-unit.sh $(UNIT_BINS)

check: unit

test: deps
	$(Q)$(MAKE) --no-print-directory all san $(UNIT_BINS)
	$(Q)bash tests/run-all.sh

integration: bin/wvetl san
	$(Q)bash tests/integration/run.sh

# The whole integration suite, plus tests/citus/t*.sh, against a Citus
# coordinator and two workers with database.citus = on. Fails (never
# skips) when Citus is neither installed nor given as CITUS_SRC=DIR.
test-citus: deps
	$(Q)$(MAKE) --no-print-directory all san
	$(Q)CITUS_SRC="$(CITUS_SRC)" bash tests/citus/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash tools/demo.sh start

demo-stop:
	$(Q)bash tools/demo.sh stop

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash bench/run.sh

# make ab A=old/wvetl [B=bin/wvetl]: two builds, alternating (bench/ab.py).
ab: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)test -n "$(A)" || { echo "make ab: give A=path/to/other/wvetl" >&2; exit 2; }
	$(Q)AB_A="$(abspath $(A))" AB_B="$(abspath $(or $(B),bin/wvetl))" bash bench/run.sh

# The BI benchmark (bench/bi.sh): >= 10M answers loaded through the tool,
# then the typical dashboard queries under EXPLAIN (ANALYZE, BUFFERS).
# Minutes, not part of make test.
bench-bi: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash bench/bi.sh

# A window on Citus against one node (bench/citus.sh; needs Citus, see
# README "Running on Citus"): minutes, not part of make test.
bench-citus: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bash bench/citus.sh

# libFuzzer over the transform (tests/fuzz/), built with clang under ASan
# and UBSan; runs FUZZ_SECONDS and ends "fuzz: N passed, N failed".
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SRCS := $(sort $(wildcard transform/*.c)) common/buf.c common/etl.c common/wvtime.c
build/fuzz/fuzz_transform: tests/fuzz/fuzz_transform.c $(FUZZ_SRCS) \
		$(wildcard transform/*.h common/*.h)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -I. -g -O1 $(WARN) \
		$(shell $(PKG_CONFIG) --cflags yajl glib-2.0) -fno-omit-frame-pointer \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-o $@ tests/fuzz/fuzz_transform.c $(FUZZ_SRCS) $(shell $(PKG_CONFIG) --libs yajl glib-2.0) -lm
fuzz: build/fuzz/fuzz_transform
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

# The optimized bin/wvetl under valgrind (no sanitizers): one backfill and
# failing paths against the mock; definite or indirect leaks fail it.
valgrind: bin/wvetl san
	$(Q)TESTS=t0490 bash tests/integration/run.sh

# install: the binary, its man page, the SQL migrations (also embedded in
# the binary; kept for DBAs), an example config and the cron/systemd files,
# with /usr/local in the docs and units replaced by PREFIX.
CONTRIB_FILES := contrib/wvetl-sync.service contrib/wvetl-sync.timer contrib/wvetl.cron \
	contrib/operations.example.ini
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/wvetl/sql \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/doc/wvetl/contrib
	install -m 755 bin/wvetl $(DESTDIR)$(PREFIX)/bin/wvetl
	install -m 644 $(SQL_FILES) $(DESTDIR)$(PREFIX)/share/wvetl/sql/
	install -d $(DESTDIR)$(PREFIX)/share/wvetl/sql/citus
	install -m 644 $(CITUS_SQL_FILES) $(DESTDIR)$(PREFIX)/share/wvetl/sql/citus/
	install -m 644 config.example.ini README.md $(DESTDIR)$(PREFIX)/share/doc/wvetl/
	sed 's|/usr/local|$(PREFIX)|g' wvetl.1 >$(DESTDIR)$(PREFIX)/share/man/man1/wvetl.1
	chmod 644 $(DESTDIR)$(PREFIX)/share/man/man1/wvetl.1
	for f in $(CONTRIB_FILES); do \
		sed 's|/usr/local/bin|$(PREFIX)/bin|g' $$f >$(DESTDIR)$(PREFIX)/share/doc/wvetl/$$f && \
		chmod 644 $(DESTDIR)$(PREFIX)/share/doc/wvetl/$$f || exit 1; \
	done

format:
	clang-format -i $(wildcard *.c */*.c */*.h tests/unit/*.c)

clean:
	rm -rf build bin

-include $(OBJ_OPT:.o=.d) $(OBJ_SAN:.o=.d) $(CLI_SRCS:%.c=build/opt/%.d) $(CLI_SRCS:%.c=build/san/%.d)
