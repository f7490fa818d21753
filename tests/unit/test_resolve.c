/*
 * Unit tests for resolve.c: each rule of resolve.h, alone and combined,
 * against a fresh users database in a mkdtemp() directory and a config
 * parsed from text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "resolve.h"
#include "users.h"
#include "util.h"

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct users	*u;
	struct conf	*conf;
};

static struct conf *
conf_with(const char *extra)
{
	struct conf	*c;
	char		*text, errs[1024];

	text = xasprintf("listen smtp 127.0.0.1:25\nhostname mx.example.org\n"
	    "domain example.org\ndomain example.com\n%s", extra);
	c = conf_parse("t.conf", text, strlen(text), errs, sizeof(errs));
	if (c == NULL)
		fail_msg("conf: %s", errs);
	free(text);
	return c;
}

static void
user(struct fixture *f, const char *addr)
{
	const char	*err = NULL;

	if (users_user_add(f->u, addr, "pw", &err) == -1)
		fail_msg("user %s: %s", addr, err);
}

static void
alias(struct fixture *f, const char *src, const char *dst)
{
	const char	*err = NULL;

	if (users_alias_add(f->u, src, dst, &err) == -1)
		fail_msg("alias %s %s: %s", src, dst, err);
}

static int
setup(void **state)
{
	struct fixture	*f;
	const char	*err = NULL;

	f = xcalloc(1, sizeof(*f));
	(void)str_copy(f->dir, sizeof(f->dir), "/tmp/test_resolve.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/users.db", f->dir);
	if ((f->u = users_open(f->path, true, &err)) == NULL)
		fail_msg("users_open: %s", err);
	assert_int_equal(users_domain_add(f->u, "example.org", &err), 0);
	assert_int_equal(users_domain_add(f->u, "example.com", &err), 0);
	f->conf = conf_with("");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char		 p[160];
	size_t		 i;

	users_close(f->u);
	conf_free(f->conf);
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/*
 * Resolve and describe the result in one string, destinations in order:
 * "L:addr=owner>mailbox", "R:addr", "F:addr:enh text"; or "unknown",
 * "tempfail".
 */
static void
run(struct fixture *f, const char *addr, unsigned flags, char *out,
    size_t outsz)
{
	struct resolve_result	 r;
	const struct resolve_dest *d;
	size_t			 i, o = 0;

	assert_int_equal(resolve_address(f->u, f->conf, addr, flags, &r), 0);
	out[0] = '\0';
	if (r.status == RESOLVE_UNKNOWN) {
		assert_int_equal(r.ndests, 0);
		(void)snprintf(out, outsz, "unknown");
	} else if (r.status == RESOLVE_TEMPFAIL) {
		assert_int_equal(r.ndests, 0);
		assert_true(r.err[0] != '\0');
		(void)snprintf(out, outsz, "tempfail");
	}
	for (i = 0; i < r.ndests && o < outsz; i++) {
		d = &r.dests[i];
		switch (d->kind) {
		case RESOLVE_LOCAL:
			o += (size_t)snprintf(out + o, outsz - o,
			    "%sL:%s=%s>%s", i ? " " : "", d->addr, d->owner,
			    d->mailbox);
			break;
		case RESOLVE_REMOTE:
			o += (size_t)snprintf(out + o, outsz - o, "%sR:%s",
			    i ? " " : "", d->addr);
			break;
		case RESOLVE_FAILED:
			o += (size_t)snprintf(out + o, outsz - o,
			    "%sF:%s:%s %s", i ? " " : "", d->addr, d->enh,
			    d->text);
			break;
		}
	}
	resolve_result_free(&r);
}

#define EXPECT(f, addr, flags, want) do {				\
	char	got_[4096];						\
	run((f), (addr), (flags), got_, sizeof(got_));			\
	if (strcmp(got_, (want)) != 0)					\
		fail_msg("%s: got \"%s\", want \"%s\"", (addr), got_,	\
		    (want));						\
} while (0)

static void
test_user(void **state)
{
	struct fixture	*f = *state;

	user(f, "alice@example.org");
	EXPECT(f, "alice@example.org", 0,
	    "L:alice@example.org=alice@example.org>example.org/alice");
	/* Domains and, by default, local parts ignore case. */
	EXPECT(f, "ALICE@Example.ORG", 0,
	    "L:alice@example.org=alice@example.org>example.org/alice");
	EXPECT(f, "nobody@example.org", 0, "unknown");
}

static void
test_user_case_sensitive(void **state)
{
	struct fixture	*f = *state;

	conf_free(f->conf);
	f->conf = conf_with("local-part-case sensitive\n");
	user(f, "Alice@example.org");
	alias(f, "Sales@example.org", "Alice@example.org");
	EXPECT(f, "Alice@EXAMPLE.org", 0,
	    "L:Alice@example.org=Alice@example.org>example.org/Alice");
	EXPECT(f, "alice@example.org", 0, "unknown");
	EXPECT(f, "sales@example.org", 0, "unknown");
	EXPECT(f, "Sales@example.org", 0,
	    "L:Alice@example.org=Alice@example.org>example.org/Alice");
}

static void
test_user_mbox_and_quota(void **state)
{
	struct fixture		*f = *state;
	struct resolve_result	 r;
	const char		*err = NULL;

	user(f, "bob@example.org");
	assert_int_equal(users_user_set_format(f->u, "bob@example.org",
	    MAILBOX_FORMAT_MBOX, &err), 0);
	assert_int_equal(users_user_set_quota(f->u, "bob@example.org", 5000,
	    &err), 0);
	assert_int_equal(resolve_address(f->u, f->conf, "bob@example.org", 0,
	    &r), 0);
	assert_int_equal(r.status, RESOLVE_OK);
	assert_int_equal(r.ndests, 1);
	assert_int_equal(r.dests[0].format, MAILBOX_FORMAT_MBOX);
	assert_int_equal(r.dests[0].quota, 5000);
	assert_string_equal(r.dests[0].mailbox, "example.org/bob/mbox");
	resolve_result_free(&r);
}

static void
test_remote(void **state)
{
	struct fixture	*f = *state;

	EXPECT(f, "someone@Example.NET", 0, "R:someone@example.net");
}

/*
 * A local part no user of ours can have (quoted, UTF-8) at another domain
 * goes out as given; at one of ours it is unknown.
 */
static void
test_remote_not_dot_atom(void **state)
{
	struct fixture	*f = *state;

	EXPECT(f, "bj\xc3\xb8rn@example.net", 0,
	    "R:bj\xc3\xb8rn@example.net");
	EXPECT(f, "\"john doe\"@Example.NET", 0,
	    "R:\"john doe\"@Example.NET");
	EXPECT(f, "bj\xc3\xb8rn@EXAMPLE.org", 0, "unknown");
	EXPECT(f, "\"john doe\"@example.org", 0, "unknown");
}

static void
test_alias_fan_out(void **state)
{
	struct fixture	*f = *state;

	user(f, "alice@example.org");
	user(f, "bob@example.com");
	alias(f, "team@example.org", "alice@example.org");
	alias(f, "team@example.org", "bob@example.com");
	alias(f, "team@example.org", "carol@example.net");
	EXPECT(f, "Team@example.org", 0,
	    "L:alice@example.org=alice@example.org>example.org/alice "
	    "L:bob@example.com=bob@example.com>example.com/bob "
	    "R:carol@example.net");
}

static void
test_alias_nested_and_deduplicated(void **state)
{
	struct fixture	*f = *state;

	user(f, "alice@example.org");
	user(f, "bob@example.org");
	alias(f, "all@example.org", "devs@example.org");
	alias(f, "all@example.org", "ops@example.org");
	alias(f, "devs@example.org", "alice@example.org");
	alias(f, "ops@example.org", "alice@example.org");
	alias(f, "ops@example.org", "bob@example.org");
	/* alice is reached twice and delivered once: not a loop either. */
	EXPECT(f, "all@example.org", 0,
	    "L:alice@example.org=alice@example.org>example.org/alice "
	    "L:bob@example.org=bob@example.org>example.org/bob");
}

static void
test_alias_loop(void **state)
{
	struct fixture	*f = *state;

	alias(f, "a@example.org", "b@example.org");
	alias(f, "b@example.org", "a@example.org");
	EXPECT(f, "a@example.org", 0, "F:a@example.org:5.4.6 Alias loop");
}

static void
test_alias_partial_loop(void **state)
{
	struct fixture	*f = *state;

	user(f, "alice@example.org");
	alias(f, "a@example.org", "b@example.org");
	alias(f, "a@example.org", "alice@example.org");
	alias(f, "b@example.org", "A@example.org");
	EXPECT(f, "a@example.org", 0,
	    "L:alice@example.org=alice@example.org>example.org/alice "
	    "F:A@example.org:5.4.6 Alias loop");
}

static void
test_alias_to_itself_keeps_a_copy(void **state)
{
	struct fixture	*f = *state;

	user(f, "alice@example.org");
	alias(f, "alice@example.org", "alice@example.org");
	alias(f, "alice@example.org", "alice@example.net");
	/* Targets in address order. */
	EXPECT(f, "alice@example.org", 0,
	    "R:alice@example.net "
	    "L:alice@example.org=alice@example.org>example.org/alice");
	/* Without a user of that name it is a loop. */
	alias(f, "x@example.org", "x@example.org");
	EXPECT(f, "x@example.org", 0, "F:x@example.org:5.4.6 Alias loop");
}

static void
test_alias_too_deep(void **state)
{
	struct fixture	*f = *state;
	char		 a[64], b[64];
	int		 i;

	user(f, "end@example.org");
	for (i = 0; i < 25; i++) {
		snprintf(a, sizeof(a), "n%d@example.org", i);
		snprintf(b, sizeof(b), "n%d@example.org", i + 1);
		alias(f, a, b);
	}
	alias(f, "n25@example.org", "end@example.org");
	EXPECT(f, "n0@example.org", 0,
	    "F:n20@example.org:5.4.6 Aliases nested too deep");
	/* 20 levels are fine. */
	EXPECT(f, "n6@example.org", 0,
	    "L:end@example.org=end@example.org>example.org/end");
}

static void
test_alias_target_unknown(void **state)
{
	struct fixture	*f = *state;

	user(f, "alice@example.org");
	alias(f, "team@example.org", "alice@example.org");
	alias(f, "team@example.org", "gone@example.org");
	EXPECT(f, "team@example.org", 0,
	    "L:alice@example.org=alice@example.org>example.org/alice "
	    "F:gone@example.org:5.1.1 User unknown");
}

static void
test_alias_too_many(void **state)
{
	struct fixture		*f = *state;
	struct resolve_result	 r;
	char			 t[64];
	int			 i;

	for (i = 0; i < RESOLVE_DESTS_MAX + 20; i++) {
		snprintf(t, sizeof(t), "m%d@example.net", i);
		alias(f, "big@example.org", t);
	}
	assert_int_equal(resolve_address(f->u, f->conf, "big@example.org", 0,
	    &r), 0);
	assert_int_equal(r.status, RESOLVE_OK);
	assert_int_equal(r.ndests, RESOLVE_DESTS_MAX + 1);
	assert_int_equal(r.dests[RESOLVE_DESTS_MAX].kind, RESOLVE_FAILED);
	assert_string_equal(r.dests[RESOLVE_DESTS_MAX].enh, "5.2.4");
	resolve_result_free(&r);
}

static void
test_catchall(void **state)
{
	struct fixture	*f = *state;

	user(f, "alice@example.org");
	user(f, "bob@example.org");
	alias(f, "@example.org", "bob@example.org");
	EXPECT(f, "anything@example.org", 0,
	    "L:bob@example.org=bob@example.org>example.org/bob");
	/* Users come first; the other domain has no catch-all. */
	EXPECT(f, "alice@example.org", 0,
	    "L:alice@example.org=alice@example.org>example.org/alice");
	EXPECT(f, "anything@example.com", 0, "unknown");
	/* A catch-all that names an unknown address of its domain. */
	alias(f, "@example.com", "nobody@example.com");
	EXPECT(f, "x@example.com", 0,
	    "F:nobody@example.com:5.4.6 Alias loop");
}

static void
test_plus_addressing(void **state)
{
	struct fixture	*f = *state;

	user(f, "alice@example.org");
	alias(f, "team@example.org", "alice@example.org");
	EXPECT(f, "alice+lists@example.org", 0,
	    "L:alice+lists@example.org=alice@example.org>example.org/alice");
	EXPECT(f, "ALICE+Lists@example.org", 0,
	    "L:alice+Lists@example.org=alice@example.org>example.org/alice");
	/* From the first delimiter; a leading one is no tag. */
	EXPECT(f, "alice+a+b@example.org", 0,
	    "L:alice+a+b@example.org=alice@example.org>example.org/alice");
	EXPECT(f, "+alice@example.org", 0, "unknown");
	EXPECT(f, "team+x@example.org", 0,
	    "L:alice@example.org=alice@example.org>example.org/alice");
	EXPECT(f, "bob+x@example.org", 0, "unknown");
	EXPECT(f, "alice-x@example.org", 0, "unknown");
}

static void
test_plus_addressing_configured(void **state)
{
	struct fixture	*f = *state;

	user(f, "alice@example.org");
	conf_free(f->conf);
	f->conf = conf_with("recipient-delimiter -\n");
	EXPECT(f, "alice-x@example.org", 0,
	    "L:alice-x@example.org=alice@example.org>example.org/alice");
	EXPECT(f, "alice+x@example.org", 0, "unknown");
	conf_free(f->conf);
	f->conf = conf_with("recipient-delimiter none\n");
	EXPECT(f, "alice+x@example.org", 0, "unknown");
}

static void
test_postmaster_default_first_user(void **state)
{
	struct fixture	*f = *state;

	EXPECT(f, "postmaster@example.org", 0, "tempfail");
	user(f, "zed@example.com");
	user(f, "bob@example.org");
	EXPECT(f, "postmaster@example.org", 0,
	    "L:bob@example.org=bob@example.org>example.org/bob");
	EXPECT(f, "Abuse@Example.COM", 0,
	    "L:bob@example.org=bob@example.org>example.org/bob");
	EXPECT(f, "postmaster", 0,
	    "L:bob@example.org=bob@example.org>example.org/bob");
	/* Not in a domain of ours: remote like any other. */
	EXPECT(f, "postmaster@example.net", 0, "R:postmaster@example.net");
}

static void
test_postmaster_default_of_first_domain(void **state)
{
	struct fixture	*f = *state;

	user(f, "bob@example.org");
	user(f, "carol@example.org");
	alias(f, "postmaster@example.org", "carol@example.org");
	EXPECT(f, "abuse@example.com", 0,
	    "L:carol@example.org=carol@example.org>example.org/carol");
}

static void
test_postmaster_directive_and_own_alias(void **state)
{
	struct fixture	*f = *state;

	user(f, "bob@example.org");
	user(f, "admin@example.com");
	user(f, "hostmaster@example.com");
	conf_free(f->conf);
	f->conf = conf_with("postmaster admin@example.com\n");
	EXPECT(f, "abuse@example.org", 0,
	    "L:admin@example.com=admin@example.com>example.com/admin");
	EXPECT(f, "postmaster+x@example.org", 0,
	    "L:admin@example.com=admin@example.com>example.com/admin");
	/* A domain's own alias wins over the directive. */
	alias(f, "postmaster@example.com", "hostmaster@example.com");
	EXPECT(f, "postmaster@example.com", 0,
	    "L:hostmaster@example.com=hostmaster@example.com>"
	    "example.com/hostmaster");
}

static void
test_final_skips_expansion(void **state)
{
	struct fixture	*f = *state;

	user(f, "alice@example.org");
	alias(f, "team@example.org", "alice@example.org");
	alias(f, "@example.org", "alice@example.org");
	EXPECT(f, "team@example.org", RESOLVE_F_FINAL, "unknown");
	EXPECT(f, "postmaster@example.org", RESOLVE_F_FINAL, "unknown");
	EXPECT(f, "alice+x@example.org", RESOLVE_F_FINAL,
	    "L:alice+x@example.org=alice@example.org>example.org/alice");
	EXPECT(f, "bob@example.net", RESOLVE_F_FINAL, "R:bob@example.net");
}

static void
test_domain_only_in_database(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;

	assert_int_equal(users_domain_add(f->u, "example.info", &err), 0);
	user(f, "dora@example.info");
	EXPECT(f, "dora@EXAMPLE.info", 0,
	    "L:dora@example.info=dora@example.info>example.info/dora");
}

static void
test_bad_input(void **state)
{
	struct fixture		*f = *state;
	struct resolve_result	 r;
	char			 big[MAILBOX_ADDR_MAX + 8];

	EXPECT(f, "not an address", 0, "unknown");
	EXPECT(f, "\"q\"@example.org", 0, "unknown");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(resolve_address(f->u, f->conf, big, 0, &r), -1);
	assert_true(resolve_local_is("PostMaster@x", "postmaster"));
	assert_true(resolve_local_is("abuse", "abuse"));
	assert_false(resolve_local_is("abuser@x", "abuse"));
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_user),
		T(test_user_case_sensitive),
		T(test_user_mbox_and_quota),
		T(test_remote),
		T(test_remote_not_dot_atom),
		T(test_alias_fan_out),
		T(test_alias_nested_and_deduplicated),
		T(test_alias_loop),
		T(test_alias_partial_loop),
		T(test_alias_to_itself_keeps_a_copy),
		T(test_alias_too_deep),
		T(test_alias_target_unknown),
		T(test_alias_too_many),
		T(test_catchall),
		T(test_plus_addressing),
		T(test_plus_addressing_configured),
		T(test_postmaster_default_first_user),
		T(test_postmaster_default_of_first_domain),
		T(test_postmaster_directive_and_own_alias),
		T(test_final_skips_expansion),
		T(test_domain_only_in_database),
		T(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
