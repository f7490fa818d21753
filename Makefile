# cachet — GNU make build.  `make` builds build/cachetd, build/cachetctl and
# build/cachet-sendmail with gcc; `make check` also builds a clang
# AddressSanitizer + UndefinedBehaviorSanitizer tree in build/san and runs
# every unit and black-box test against it.

# `make install` (docs/cachetd.md, "Installing"): DESTDIR is honoured; the
# unit is written with these paths in it.  Config and state are not under
# PREFIX: cachet.conf(5)'s defaults are /etc/cachet, /var/lib/cachet and
# /var/mail/cachet, whatever the prefix.
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
DATADIR	?= $(PREFIX)/share/cachet
DOCDIR	?= $(PREFIX)/share/doc/cachet
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SYSCONFDIR ?= /etc
STATEDIR ?= /var/lib/cachet
MAILSTOREDIR ?= /var/mail/cachet
SENDMAIL ?= /usr/sbin/sendmail
V	?= 0
FUZZ_SECONDS ?= 20

CC	?= cc
SANCC	?= clang
PKGS	:= libevent libevent_openssl openssl libunbound sqlite3 libcurl libcrypt \
	   libseccomp jansson zlib libxml-2.0 libzip libpcre2-8
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
# Unit tests also read JSON and YAML test vectors (jansson, libyaml).
CMOCKA_LIBS := $(shell pkg-config --libs cmocka jansson yaml-0.1 2>/dev/null)

WARN	:= -Wall -Wextra -Wformat=2 -Wshadow -Wvla -Werror \
	   -Wno-unused-parameter
# A role's folder includes lib/ headers by name and another folder's
# headers by path ("store/mda.h"), so a look at the includes shows which
# role leans on which.  Unit tests and fuzz targets see every folder.
BASEFLAGS := -std=c17 -D_GNU_SOURCE -g $(WARN) $(PKG_CFLAGS) -Isrc/lib -Isrc \
	     -Ibuild/gen -MMD -MP
TESTINC	:= $(addprefix -I,$(wildcard src/*))
CFLAGS	?= -O2
# The test build also carries test-only hooks (CACHET_TEST_HOOKS: e.g. a
# message that makes a role break its sandbox); the release build has none.
SANFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	    -fno-sanitize-recover=undefined -DCACHET_TEST_HOOKS
FUZZFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined

MAINS	:= src/parent/cachetd.c src/tools/cachetctl.c src/tools/cachet_sendmail.c
LIBSRC	:= $(filter-out $(MAINS),$(wildcard src/*/*.c))
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

.PHONY: all run check unit blackbox fuzz clean install deps sanbuild lint \
	lint-tidy lint-cppcheck compdb man install-sendmail uninstall
all: $(BIN)

deps:
	$(Q)./scripts/install-deps

# The default spam rules are etc/spam.rules, compiled in as one C string
# (one source: the file operators read is the set the daemon runs).
build/gen/spam_rules.inc: etc/spam.rules
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' \
	    -e 's/^/"/' -e 's/$$/\\n"/' $< >$@.tmp && mv $@.tmp $@
SPAMRULES_OBJ := build/obj/lib/spamrules.o build/san/obj/lib/spamrules.o \
		 build/fuzz/obj/lib/spamrules.o build/lint/src/lib/spamrules.tidy
$(SPAMRULES_OBJ): build/gen/spam_rules.inc

# --- normal build (gcc) ---
build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(BASEFLAGS) $(CFLAGS) -c -o $@ $<

build/libcachet.a: $(patsubst src/%.c,build/obj/%.o,$(LIBSRC))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

build/cachetd: build/obj/parent/cachetd.o build/libcachet.a
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)
build/cachetctl: build/obj/tools/cachetctl.o build/libcachet.a
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)
build/cachet-sendmail: build/obj/tools/cachet_sendmail.o build/libcachet.a
	$(call say,LD,$@)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# The spam filter's content pipeline in one process, for bench/spam and
# bench/spam-crossval (not part of `all`).
build/spam_eval: bench/spam_eval.c bench/mime_load.h build/libcachet.a
	$(call say,LD,$@)$(CC) $(BASEFLAGS) $(CFLAGS) -Ibench -o $@ \
	    $(filter %.c %.a,$^) $(PKG_LIBS)

# --- sanitizer build (clang, ASan + UBSan) for the tests ---
build/san/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,SANCC,$<)$(SANCC) $(BASEFLAGS) $(SANFLAGS) -c -o $@ $<

build/san/libcachet.a: $(patsubst src/%.c,build/san/obj/%.o,$(LIBSRC))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

build/san/cachetd: build/san/obj/parent/cachetd.o build/san/libcachet.a
	$(call say,LD,$@)$(SANCC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)
build/san/cachetctl: build/san/obj/tools/cachetctl.o build/san/libcachet.a
	$(call say,LD,$@)$(SANCC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)
build/san/cachet-sendmail: build/san/obj/tools/cachet_sendmail.o build/san/libcachet.a
	$(call say,LD,$@)$(SANCC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS)

build/san/tests/obj/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(call say,SANCC,$<)$(SANCC) $(BASEFLAGS) $(TESTINC) $(SANFLAGS) -c -o $@ $<

build/san/tests/%: build/san/tests/obj/%.o build/san/libcachet.a
	$(call say,LD,$@)$(SANCC) $(SANFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# Test tools: small programs the black-box tests run (mimedump prints a
# message's parse as JSON for the MIME corpus tests).
build/san/tests/mimedump: tests/tools/mimedump.c build/san/libcachet.a
	@mkdir -p $(dir $@)
	$(call say,SANLD,$@)$(SANCC) $(BASEFLAGS) $(TESTINC) $(SANFLAGS) \
	    -o $@ $(filter %.c %.a,$^) $(PKG_LIBS) $(CMOCKA_LIBS)

# imapsearch runs SEARCH/SORT/THREAD over a directory of messages for the
# comparison with Dovecot.
build/san/tests/imapsearch: tests/tools/imapsearch.c build/san/libcachet.a
	@mkdir -p $(dir $@)
	$(call say,SANLD,$@)$(SANCC) $(BASEFLAGS) $(TESTINC) $(SANFLAGS) \
	    -o $@ $(filter %.c %.a,$^) $(PKG_LIBS) $(CMOCKA_LIBS)

# spamrules_hits: each default rule's hit rate on ham and spam of a
# labelled corpus, and the rules' speed (an optimised build, not the
# sanitizer's): `make build/spamrules-hits`.
build/spamrules-hits: tests/tools/spamrules_hits.c build/libcachet.a
	$(call say,LD,$@)$(CC) $(BASEFLAGS) $(TESTINC) $(CFLAGS) \
	    -o $@ $(filter %.c %.a,$^) $(PKG_LIBS)

# spamfeat: the features spam_features_extract() makes of each message
# (rules' hits, tokens), to show an optimisation changes none of them,
# and its CPU time: `make build/spamfeat`.
build/spamfeat: tests/tools/spamfeat.c build/libcachet.a
	$(call say,LD,$@)$(CC) $(BASEFLAGS) $(TESTINC) $(CFLAGS) \
	    -o $@ $(filter %.c %.a,$^) $(PKG_LIBS)

sanbuild: $(SANBIN) $(UNITBIN) build/san/tests/mimedump \
    build/san/tests/imapsearch

# --- fuzz targets (clang libFuzzer) ---
build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$<)$(SANCC) $(BASEFLAGS) $(FUZZFLAGS) -c -o $@ $<

build/fuzz/libcachet.a: $(patsubst src/%.c,build/fuzz/obj/%.o,$(LIBSRC))
	$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libcachet.a
	@mkdir -p $(dir $@)
	$(call say,FUZZLD,$@)$(SANCC) $(BASEFLAGS) $(TESTINC) -O1 -fsanitize=fuzzer,address,undefined \
	    -o $@ $(filter %.c %.a,$^) $(PKG_LIBS)

fuzz: deps $(FUZZBIN)
	$(Q)./scripts/run-fuzz $(FUZZ_SECONDS) $(FUZZBIN)

# --- static analysis: clang-tidy and cppcheck ---
# `make lint` runs clang-tidy (.clang-tidy, tests/.clang-tidy) on every
# .c file, one make job per file (a file is checked again when it, any
# header, the config or the flags change), then cppcheck on the whole
# tree; any finding fails it.  Both read a compilation database written
# here from the sanitizer build's own flags (unit tests and fuzz targets
# add TESTINC), without -MMD -MP: analysers must not write .d files.
#
# cppcheck's database also leaves out the libraries' include paths
# (PKG_CFLAGS): it knows libc, POSIX, OpenSSL and SQLite from its own
# --library files, and glibc's sys/cdefs.h, read by a parser that is not
# GCC, would erase every __attribute__ (noreturn on fatal() included)
# from our headers.  It does get the real <sys/queue.h> (--include), so
# that the TAILQ macros are expanded as the compiler expands them.  It
# runs as one process: cppcheck 2.10's -j loses the symbol names that
# .cppcheck-suppressions.xml matches on.
NPROC	:= $(shell nproc 2>/dev/null || echo 2)
LINTFLAGS := $(filter-out -MMD -MP,$(BASEFLAGS)) $(SANFLAGS)
CPPCHECKFLAGS := $(filter-out $(PKG_CFLAGS),$(LINTFLAGS))
LINTSRC	:= $(MAINS) $(LIBSRC) $(UNITSRC) $(FUZZSRC)
LINTHDR	:= $(wildcard src/*/*.h tests/unit/*.h)
QUEUE_H	= $(shell $(SANCC) -M -include sys/queue.h -x c /dev/null \
	     2>/dev/null | grep -o '[^ ]*/sys/queue\.h')
comma	:= ,
empty	:=
space	:= $(empty) $(empty)
jsonlist = $(subst $(space),$(comma)$(space),$(patsubst %,"%",$(strip $(1))))
# $(call compdb,FLAGS): a JSON compilation database of LINTSRC
compdb_args = $(SANCC) $(2) $(if $(filter src/%,$(1)),,$(TESTINC)) \
	      -c -o /dev/null $(1)
compdb_entry = {"directory": "$(CURDIR)", "file": "$(1)",\
	"arguments": [$(call jsonlist,$(call compdb_args,$(1),$(2)))]}
compdb = [$(call compdb_entry,$(firstword $(LINTSRC)),$(1))$(foreach f,$(wordlist \
	 2,$(words $(LINTSRC)),$(LINTSRC)),$(comma) $(call compdb_entry,$(f),$(1)))]
TIDYSTAMP := $(patsubst %.c,build/lint/%.tidy,$(LINTSRC))
CPPCHECK_LIBS := posix,gnu,openssl,sqlite3

# Written while make reads this file, and only when the text changes, so
# that the clang-tidy stamps stay valid from one run to the next.
ifneq ($(filter lint lint-% compdb build/lint/%,$(MAKECMDGOALS)),)
$(shell mkdir -p build/lint/cppcheck)
ifneq ($(call compdb,$(LINTFLAGS)),$(file <build/compile_commands.json))
$(file >build/compile_commands.json,$(call compdb,$(LINTFLAGS)))
endif
ifneq ($(call compdb,$(CPPCHECKFLAGS)),$(file <build/lint/cppcheck.json))
$(file >build/lint/cppcheck.json,$(call compdb,$(CPPCHECKFLAGS)))
endif
endif
compdb:

build/lint/%.tidy: %.c $(LINTHDR) .clang-tidy tests/.clang-tidy \
    build/compile_commands.json
	@mkdir -p $(dir $@)
	$(call say,TIDY,$<)if clang-tidy -p build --quiet $< >$@.log 2>&1; \
	    then touch $@; else grep -v ' generated\.$$' $@.log; exit 1; fi

lint-tidy: $(TIDYSTAMP)

lint-cppcheck: .cppcheck-suppressions.xml build/gen/spam_rules.inc
	$(if $(QUEUE_H),,$(error lint: $(SANCC) finds no sys/queue.h))
	$(call say,CPPCHK,tree)cppcheck -q \
	    --error-exitcode=1 \
	    --project=build/lint/cppcheck.json --include=$(QUEUE_H) \
	    --library=$(CPPCHECK_LIBS) \
	    --enable=warning,style,performance,portability \
	    --inline-suppr --suppress-xml=.cppcheck-suppressions.xml \
	    --cppcheck-build-dir=build/lint/cppcheck \
	    --template='{file}:{line}: {severity}: {id}: {message}'

# Both run, and every file is checked, before a finding fails the target.
lint: deps
	$(Q)rc=0; \
	$(MAKE) --no-print-directory -k -j$(NPROC) lint-tidy || rc=1; \
	$(MAKE) --no-print-directory lint-cppcheck || rc=1; \
	exit $$rc

# --- the README's commands ---
run: deps
	$(Q)$(MAKE) --no-print-directory all
	./build/cachetd -d

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory sanbuild
	$(Q)./scripts/check

# --- man pages, from docs/ (scripts/md2man, go-md2man) ---
MANPAGES := build/man/cachetd.8 build/man/cachetctl.8 \
	    build/man/cachet-sendmail.1 build/man/cachet.conf.5 \
	    build/man/cachet-spam-rules.5
build/man/cachetd.8: docs/cachetd.md
build/man/cachetctl.8: docs/cachetctl.md
build/man/cachet-sendmail.1: docs/cachet-sendmail.md
build/man/cachet.conf.5: docs/cachet.conf.md
build/man/cachet-spam-rules.5: docs/spam-rules.md
$(MANPAGES): scripts/md2man
	@mkdir -p $(dir $@)
	$(call say,MAN,$@)scripts/md2man $(filter %.md,$^) $@
man: $(MANPAGES)

# --- install: the binaries as built by `make` (nothing is rebuilt with
# other flags), man pages, the systemd unit and its sysusers file, the
# default spam rules to copy from, the docs.  Nothing in SYSCONFDIR is
# written (`cachetctl quickstart` writes cachet.conf), and nothing in
# STATEDIR or MAILSTOREDIR (the unit makes them).
UNITSUBST := -e 's|@SBINDIR@|$(SBINDIR)|g' \
	     -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	     -e 's|@SYSUSERSDIR@|$(SYSUSERSDIR)|g' \
	     -e 's|@STATEDIR@|$(STATEDIR)|g' \
	     -e 's|@MAILDIR@|$(MAILSTOREDIR)|g'
install: all man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(SYSCONFDIR)/cachet
	install -m 0755 build/cachetd build/cachetctl build/cachet-sendmail \
	    $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(filter %.1,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(filter %.5,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(filter %.8,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 etc/spam.rules $(DESTDIR)$(DATADIR)/spam.rules
	sed $(UNITSUBST) dist/cachetd.service.in \
	    >$(DESTDIR)$(UNITDIR)/cachetd.service.tmp
	chmod 0644 $(DESTDIR)$(UNITDIR)/cachetd.service.tmp
	mv $(DESTDIR)$(UNITDIR)/cachetd.service.tmp \
	    $(DESTDIR)$(UNITDIR)/cachetd.service
	install -m 0644 dist/cachet.sysusers $(DESTDIR)$(SYSUSERSDIR)/cachet.conf
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/

# cachet-sendmail as SENDMAIL (/usr/sbin/sendmail), only when asked: a
# symbolic link to the installed one.  Another MTA's sendmail is left
# alone (the target fails: remove that MTA first).
install-sendmail: install
	install -d $(DESTDIR)$(dir $(SENDMAIL))
	@if [ -e $(DESTDIR)$(SENDMAIL) ] || [ -L $(DESTDIR)$(SENDMAIL) ]; then \
	    if [ "$$(readlink $(DESTDIR)$(SENDMAIL))" != \
	        "$(SBINDIR)/cachet-sendmail" ]; then \
	        echo "$(DESTDIR)$(SENDMAIL) exists and is not cachet's:" \
	            "remove it (another MTA's?) first" >&2; exit 1; \
	    fi; \
	fi
	ln -sfn $(SBINDIR)/cachet-sendmail $(DESTDIR)$(SENDMAIL)

# What install and install-sendmail put there; config, state, mail and
# the role users stay.
uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,cachetd cachetctl \
	    cachet-sendmail)
	rm -f $(DESTDIR)$(MANDIR)/man1/cachet-sendmail.1 \
	    $(DESTDIR)$(MANDIR)/man5/cachet.conf.5 \
	    $(DESTDIR)$(MANDIR)/man5/cachet-spam-rules.5 \
	    $(DESTDIR)$(MANDIR)/man8/cachetd.8 \
	    $(DESTDIR)$(MANDIR)/man8/cachetctl.8
	rm -f $(DESTDIR)$(UNITDIR)/cachetd.service \
	    $(DESTDIR)$(SYSUSERSDIR)/cachet.conf
	rm -f $(DESTDIR)$(DATADIR)/spam.rules \
	    $(addprefix $(DESTDIR)$(DOCDIR)/,README.md $(notdir $(wildcard docs/*.md)))
	-rmdir $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) 2>/dev/null
	@if [ "$$(readlink $(DESTDIR)$(SENDMAIL))" = \
	    "$(SBINDIR)/cachet-sendmail" ]; then \
	    echo rm -f $(DESTDIR)$(SENDMAIL); rm -f $(DESTDIR)$(SENDMAIL); fi

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
