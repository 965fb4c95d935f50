# Beat: make test | make bench | make examples | make amalgamate | make check | make clean
#
# make test             unit, stress, model and compile tests against the generated beat.h
# make test SAN=tsan    the same programs under ThreadSanitizer (clang)
# make test SAN=asan    the same programs under AddressSanitizer + UBSan (clang)
# make fuzz             each tests/fuzz/fuzz_*.c under libFuzzer for FUZZ_SECONDS (30)
# make install          headers, beat.pc, CMake package files (PREFIX=/usr/local, DESTDIR)

SAN ?=
PYTHON ?= python3
SRC := $(shell find src -type f) tools/amalgamate.py LICENSE
HEADERS := beat.h beat_simd.h
WARN := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wundef -Wstrict-prototypes

ifeq ($(SAN),tsan)
CC := clang
OPT := -O1 -g -fsanitize=thread -DBEAT_TEST_QUICK
else ifeq ($(SAN),asan)
CC := clang
OPT := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -DBEAT_TEST_QUICK
else ifeq ($(SAN),)
CC ?= gcc
OPT := -O2 -g
else
$(error SAN must be empty, tsan or asan)
endif

BUILD := build/$(if $(SAN),$(SAN),native)
CFLAGS := -std=c11 $(OPT) $(WARN) -I.
LDLIBS := -pthread

TESTS := $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/test_*.c))
MODEL := $(BUILD)/deque_model

.PHONY: all test bench examples amalgamate check format clean fuzz
all: $(HEADERS) $(TESTS)

$(HEADERS) &: $(SRC)
	$(PYTHON) tools/amalgamate.py

amalgamate:
	$(PYTHON) tools/amalgamate.py

$(BUILD)/%: tests/%.c tests/test.h tests/fib.h tests/tree.h $(HEADERS) | $(BUILD)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

# Variants of test_simd.c and test_devmode.c that #include them.
$(BUILD)/test_simd_scalar $(BUILD)/test_simd_only: tests/test_simd.c
$(BUILD)/test_engine_p1: tests/test_engine.c
$(BUILD)/test_pool_one_ring: tests/test_pool.c
$(BUILD)/test_devmode_ndebug: tests/test_devmode.c

$(MODEL): tests/model/deque_model.c src/deque.c src/atomics.h src/config.h | $(BUILD)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

$(BUILD):
	mkdir -p $@

# beat-topo, for the topology checks against real-machine captures.
TOPO_TOOL := build/beat-topo
$(TOPO_TOOL): examples/beat_topo.c $(HEADERS) | $(BUILD)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

# The spin model, the compile matrix and the topology captures do not
# depend on the sanitizer, so they run in the plain build only.
ifeq ($(SAN),)
EXTRA_SUITES := "bash tests/model/check_park.sh" "bash tests/compile/check.sh" \
	"$(PYTHON) tests/topology/check_fixtures.py --tool $(TOPO_TOOL)" "bash tests/examples/run.sh"
EXTRA_DEPS := $(TOPO_TOOL)
endif

test: $(TESTS) $(MODEL) $(EXTRA_DEPS)
	$(PYTHON) tests/run.py $(foreach t,$(TESTS),"$(t)") "$(MODEL)" $(EXTRA_SUITES)

# libFuzzer targets: every tests/fuzz/fuzz_NAME.c runs FUZZ_SECONDS seconds
# (clang, -fsanitize=fuzzer,address,undefined), corpus in build/fuzz/NAME.corpus.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
build/fuzz/%: tests/fuzz/%.c $(HEADERS)
	@mkdir -p $@.corpus
	clang -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(WARN) \
		-I. $< -o $@ $(LDLIBS)

fuzz: $(FUZZ_TARGETS)
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Soak, not part of make test or CI: 2^32 + 10 jobs through beat_submit_batch
# and 10 minutes of deque stress (tests/soak/soak.c). Shorter, e.g.:
#   make soak SOAK_ARGS="--jobs 100000000 --deque-seconds 10"
.PHONY: soak
SOAK_ARGS ?=
soak: build/soak
	build/soak $(SOAK_ARGS)

build/soak: tests/soak/soak.c $(HEADERS)
	@mkdir -p build
	$(CC) -std=c11 -O2 -g $(WARN) -I. $< -o $@ $(LDLIBS)

bench: $(HEADERS)
	$(MAKE) -C bench run

examples: $(HEADERS)
	$(MAKE) -C examples

check: format
	$(PYTHON) tools/amalgamate.py --check

FORMAT_FILES := $(shell find src tests bench examples -name '*.[ch]' 2>/dev/null)
format:
	@command -v clang-format >/dev/null || { echo "clang-format not installed"; exit 1; }
	clang-format --dry-run --Werror $(FORMAT_FILES)
	@echo "format: $(words $(FORMAT_FILES)) files clean"

# make install [PREFIX=/usr/local] [DESTDIR=] [INCLUDEDIR=] [LIBDIR=]: the
# headers, LIBDIR/pkgconfig/beat.pc and LIBDIR/cmake/beat/beat-config*.cmake
# (find_package(beat CONFIG)), from the templates in cmake/ that CMake's
# install uses too. The version comes from beat.h (src/api/base.h).
PREFIX ?= /usr/local
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR ?= $(PREFIX)/lib
VERSION_PART = $(shell sed -n 's/^\#define BEAT_VERSION_$(1) \([0-9]*\)$$/\1/p' beat.h)
# With the default layout beat-config.cmake finds the headers relative to
# itself (the tree can be moved), as after cmake --install.
CONFIG_INCLUDEDIR = $(if $(and $(filter $(PREFIX)/include,$(INCLUDEDIR)),\
	$(filter $(PREFIX)/lib,$(LIBDIR))),../../../include,$(INCLUDEDIR))
INSTALL_SUBST = sed -e 's|@BEAT_PREFIX@|$(PREFIX)|g' \
	-e 's|@BEAT_PC_INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|g' \
	-e 's|@BEAT_CONFIG_INCLUDEDIR@|$(CONFIG_INCLUDEDIR)|g' \
	-e 's|@BEAT_VERSION@|$(call VERSION_PART,MAJOR).$(call VERSION_PART,MINOR).$(call VERSION_PART,PATCH)|g' \
	-e 's|@BEAT_VERSION_MAJOR@|$(call VERSION_PART,MAJOR)|g' \
	-e 's|@BEAT_VERSION_MINOR@|$(call VERSION_PART,MINOR)|g'

.PHONY: install
install: $(HEADERS)
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(LIBDIR)/cmake/beat
	install -m 644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)
	$(INSTALL_SUBST) cmake/beat.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/beat.pc
	$(INSTALL_SUBST) cmake/beat-config.cmake.in > $(DESTDIR)$(LIBDIR)/cmake/beat/beat-config.cmake
	$(INSTALL_SUBST) cmake/beat-config-version.cmake.in \
		> $(DESTDIR)$(LIBDIR)/cmake/beat/beat-config-version.cmake

clean:
	rm -rf build
