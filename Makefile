# cachet — GNU make build.  `make` builds build/cachetd, build/cachetctl and
# build/cachet-sendmail with gcc; `make check` also builds a clang
# AddressSanitizer + UndefinedBehaviorSanitizer tree in build/san and runs
# every unit and black-box test against it.

PREFIX	?= /usr/local
V	?= 0
FUZZ_SECONDS ?= 20

CC	?= cc
SANCC	?= clang
PKGS	:= libevent libevent_openssl openssl libunbound sqlite3 libcurl libcrypt \
	   libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN	:= -Wall -Wextra -Wformat=2 -Wshadow -Wvla -Werror \
	   -Wno-unused-parameter
BASEFLAGS := -std=c17 -D_GNU_SOURCE -g $(WARN) $(PKG_CFLAGS) -Isrc -MMD -MP
CFLAGS	?= -O2
# The test build also carries test-only hooks (CACHET_TEST_HOOKS: e.g. a
# message that makes a role break its sandbox); the release build has none.
SANFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	    -fno-sanitize-recover=undefined -DCACHET_TEST_HOOKS
FUZZFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined

MAINS	:= src/cachetd.c src/cachetctl.c src/cachet_sendmail.c
LIBSRC	:= $(filter-out $(MAINS),$(wildcard src/*.c))
UNITSRC	:= $(wildcard tests/unit/test_*.c)
FUZZSRC	:= $(wildcard tests/fuzz/fuzz_*.c)

BIN	:= build/cachetd build/cachetctl build/cachet-sendmail
SANBIN	:= build/san/cachetd build/san/cachetctl build/san/cachet-sendmail
UNITBIN	:= $(patsubst tests/unit/%.c,build/san/tests/%,$(UNITSRC))
FUZZBIN	:= $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZSRC))

ifeq ($(V),0)
Q	:= @
say	= @printf '  %-6s %s\n' $(1) $(2);
else
Q	:=
say	=
endif

.PHONY: all run check unit blackbox fuzz clean install deps sanbuild
all: $(BIN)

deps:
	$(Q)./scripts/install-deps

# --- normal build (gcc) ---
build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(BASEFLAGS) $(CFLAGS) -c -o $@ $<

build/libcachet.a: $(patsubst src/%.c,build/obj/%.o,$(LIBSRC))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

build/cachetd: build/obj/cachetd.o build/libcachet.a
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)
build/cachetctl: build/obj/cachetctl.o build/libcachet.a
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)
build/cachet-sendmail: build/obj/cachet_sendmail.o build/libcachet.a
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# --- sanitizer build (clang, ASan + UBSan) for the tests ---
build/san/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,SANCC,$<)$(SANCC) $(BASEFLAGS) $(SANFLAGS) -c -o $@ $<

build/san/libcachet.a: $(patsubst src/%.c,build/san/obj/%.o,$(LIBSRC))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

build/san/cachetd: build/san/obj/cachetd.o build/san/libcachet.a
	$(call say,LD,$@)$(SANCC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)
build/san/cachetctl: build/san/obj/cachetctl.o build/san/libcachet.a
	$(call say,LD,$@)$(SANCC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)
build/san/cachet-sendmail: build/san/obj/cachet_sendmail.o build/san/libcachet.a
	$(call say,LD,$@)$(SANCC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)

build/san/tests/obj/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(call say,SANCC,$<)$(SANCC) $(BASEFLAGS) $(SANFLAGS) -c -o $@ $<

build/san/tests/%: build/san/tests/obj/%.o build/san/libcachet.a
	$(call say,LD,$@)$(SANCC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

sanbuild: $(SANBIN) $(UNITBIN)

# --- fuzz targets (clang libFuzzer) ---
build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$<)$(SANCC) $(BASEFLAGS) $(FUZZFLAGS) -c -o $@ $<

build/fuzz/libcachet.a: $(patsubst src/%.c,build/fuzz/obj/%.o,$(LIBSRC))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libcachet.a
	@mkdir -p $(dir $@)
	$(call say,FUZZLD,$@)$(SANCC) $(BASEFLAGS) -O1 -fsanitize=fuzzer,address,undefined \
	    -o $@ $(filter %.c %.a,$^) $(PKG_LIBS)

fuzz: deps $(FUZZBIN)
	$(Q)./scripts/run-fuzz $(FUZZ_SECONDS) $(FUZZBIN)

# --- the README's commands ---
run: deps
	$(Q)$(MAKE) --no-print-directory all
	./build/cachetd -d

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory sanbuild
	$(Q)./scripts/check

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 build/cachetd $(DESTDIR)$(PREFIX)/sbin/cachetd
	install -m 0755 build/cachetctl $(DESTDIR)$(PREFIX)/sbin/cachetctl
	install -m 0755 build/cachet-sendmail $(DESTDIR)$(PREFIX)/sbin/cachet-sendmail
	install -d $(DESTDIR)$(PREFIX)/share/doc/cachet
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/cachet/

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
