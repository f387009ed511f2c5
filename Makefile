# knutepunkt - build, test, install.
#
#   make                  build everything into bin/ (installs Debian packages first if missing)
#   make test             build and run every test; ends with "N passed, N failed"
#   make SAN=1 test       the same under AddressSanitizer and UndefinedBehaviorSanitizer
#   make demo             central and three hubs with realistic data and web pages (Ctrl-C stops)
#   make install PREFIX=/usr/local
#   make format / make format-check

PREFIX ?= /usr/local
CC ?= cc
PKGS = libzmq msgpack jansson libsodium libmicrohttpd

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -Iinclude -Iproto -Ihub -Icentral
LDLIBS = -llmdb -lmsgpackc -ljansson -lzmq -lsodium -lmicrohttpd -lm

ifeq ($(SAN),1)
CC = clang
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
BUILD ?= build/san
else
BUILD ?= build/rel
endif
# BIN: where the programs go (tests read $(BIN)/knute).
BIN ?= bin

LIB_SRC = $(wildcard lib/*.c) $(wildcard proto/*.c)
HUB_LIB_SRC = $(filter-out hub/knute.c hub/knute-hub.c,$(wildcard hub/*.c))
CENTRAL_LIB_SRC = $(filter-out central/knute-central.c,$(wildcard central/*.c))
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o) $(HUB_LIB_SRC:%.c=$(BUILD)/%.o) \
	$(CENTRAL_LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOL_BIN = $(TOOL_SRC:tests/tools/%.c=$(BIN)/%)
HEADERS = $(wildcard include/knute/*.h) $(wildcard proto/*.h) $(wildcard hub/*.h) $(wildcard central/*.h)

DEPS_STAMP = build/.deps-ok
BROWSER_STAMP = build/.browser-deps-ok

PROGRAMS = $(BIN)/knute $(BIN)/knute-hub $(BIN)/knute-central

all: $(PROGRAMS) $(TOOL_BIN)

# A new machine needs no manual step: install what is missing, once.
$(DEPS_STAMP): scripts/install-deps.sh
	@sh scripts/install-deps.sh
	@mkdir -p build && touch $@

$(BUILD)/%.o: %.c $(HEADERS) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The daemons find the pages in the source tree unless they are installed.
$(BUILD)/lib/http.o: CFLAGS += -DKP_WEBDIR='"$(abspath web)"'

$(BUILD)/libknute.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/knute: $(BUILD)/hub/knute.o $(BUILD)/libknute.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/knute-hub: $(BUILD)/hub/knute-hub.o $(BUILD)/libknute.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/knute-central: $(BUILD)/central/knute-central.o $(BUILD)/libknute.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/%: $(BUILD)/tests/tools/%.o $(BUILD)/libknute.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libknute.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The browser test's Chromium, Node.js and playwright-core, once.
$(BROWSER_STAMP): scripts/install-browser-deps.sh tests/browser/package-lock.json
	@sh scripts/install-browser-deps.sh
	@mkdir -p build && touch $@

# The binaries under test are rebuilt for the chosen build (SAN or not).
test: bin-fresh $(UNIT_BIN) $(BROWSER_STAMP)
	@BUILD=$(BUILD) BIN=$(BIN) sh tests/run.sh

# bin/ holds one build at a time; switching SAN on or off relinks it.
bin-fresh:
	@if [ -f $(BIN)/.build ] && [ "$$(cat $(BIN)/.build)" != "$(BUILD)" ]; then rm -f $(PROGRAMS) $(TOOL_BIN); fi
	@$(MAKE) --no-print-directory all SAN=$(SAN) BUILD=$(BUILD) BIN=$(BIN)
	@echo $(BUILD) > $(BIN)/.build

demo: bin-fresh
	@sh scripts/demo.sh

bench: all
	@sh scripts/bench-store

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 bin/knute bin/knute-hub bin/knute-central $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/knutepunkt/web
	install -m 644 web/* $(DESTDIR)$(PREFIX)/share/knutepunkt/web/

FORMAT_SRC = $(wildcard include/knute/*.h proto/*.[ch] lib/*.[ch] hub/*.[ch] central/*.[ch] tests/unit/*.[ch] tests/tools/*.c)
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build bin

.PHONY: all test bin-fresh demo bench install format format-check clean
.SECONDARY:
