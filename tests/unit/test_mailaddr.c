/*
 * Unit tests for mailaddr: RFC 5321 / RFC 6531 paths and mailboxes.  Each
 * table row becomes one named cmocka test.  Every input is copied into a
 * heap block of exactly its length, so AddressSanitizer catches a read
 * past len.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mailaddr.h"

/* A string literal and its length, NULs inside included. */
#define IN(s)	(s), sizeof(s) - 1

struct path_ok {
	const char	*name;
	const char	*in;
	size_t		 len;
	bool		 allow_null;
	bool		 utf8;
	const char	*local;
	const char	*domain;
	bool		 is_null;
	bool		 is_literal;
	bool		 is_utf8;
	size_t		 consumed;
};

static const struct path_ok path_ok[] = {
	{ "simple", IN("<alice@example.org>"), false, false,
	    "alice", "example.org", false, false, false, 19 },
	{ "single-label domain", IN("<root@localhost>"), false, false,
	    "root", "localhost", false, false, false, 16 },
	{ "case kept", IN("<Joe@Example.ORG>"), false, false,
	    "Joe", "Example.ORG", false, false, false, 17 },
	{ "dotted local part", IN("<first.last@example.org>"), false, false,
	    "first.last", "example.org", false, false, false, 24 },
	{ "every atext special", IN("<!#$%&'*+-/=?^_`{|}~@example.org>"),
	    false, false, "!#$%&'*+-/=?^_`{|}~", "example.org",
	    false, false, false, 33 },
	{ "digit and hyphen labels", IN("<a@3com.x-y.example>"), false, false,
	    "a", "3com.x-y.example", false, false, false, 20 },
	{ "quoted local part with spaces", IN("<\"john doe\"@example.org>"),
	    false, false, "\"john doe\"", "example.org", false, false, false,
	    24 },
	{ "quoted local part with escaped quote",
	    IN("<\"a\\\"b\"@example.org>"), false, false, "\"a\\\"b\"",
	    "example.org", false, false, false, 20 },
	{ "quoted local part with escaped backslash and space",
	    IN("<\"a\\\\\\ b\"@example.org>"), false, false, "\"a\\\\\\ b\"",
	    "example.org", false, false, false, 22 },
	{ "quoted local part holding > and @", IN("<\"a>b@c\"@example.org>"),
	    false, false, "\"a>b@c\"", "example.org", false, false, false,
	    21 },
	{ "empty quoted local part", IN("<\"\"@example.org>"), false, false,
	    "\"\"", "example.org", false, false, false, 16 },
	{ "source route of two hops dropped",
	    IN("<@a.example,@b.example:joe@c.example>"), false, false,
	    "joe", "c.example", false, false, false, 37 },
	{ "source route of one hop dropped", IN("<@a.example:joe@c.example>"),
	    false, false, "joe", "c.example", false, false, false, 26 },
	{ "IPv4 literal", IN("<joe@[192.0.2.1]>"), false, false,
	    "joe", "[192.0.2.1]", false, true, false, 17 },
	{ "IPv6 literal", IN("<joe@[IPv6:2001:db8::1]>"), false, false,
	    "joe", "[IPv6:2001:db8::1]", false, true, false, 24 },
	{ "IPv6 tag in lower case", IN("<joe@[ipv6:::1]>"), false, false,
	    "joe", "[ipv6:::1]", false, true, false, 16 },
	{ "IPv6 literal with IPv4 tail", IN("<joe@[IPv6:::ffff:192.0.2.1]>"),
	    false, false, "joe", "[IPv6:::ffff:192.0.2.1]", false, true,
	    false, 29 },
	{ "UTF-8 local part and domain under utf8",
	    IN("<δοκιμή@παράδειγμα.δοκιμή>"), false, true,
	    "δοκιμή", "παράδειγμα.δοκιμή", false, false, true,
	    sizeof("<δοκιμή@παράδειγμα.δοκιμή>") - 1 },
	{ "UTF-8 U-label domain under utf8", IN("<joe@bücher.example>"),
	    false, true, "joe", "bücher.example", false, false, true,
	    sizeof("<joe@bücher.example>") - 1 },
	{ "UTF-8 in quoted local part under utf8",
	    IN("<\"jö e\"@example.org>"), false, true, "\"jö e\"",
	    "example.org", false, false, true,
	    sizeof("<\"jö e\"@example.org>") - 1 },
	{ "four-octet UTF-8 under utf8", IN("<\xf0\x9f\x98\x80@example.org>"),
	    false, true, "\xf0\x9f\x98\x80", "example.org", false, false, true,
	    18 },
	{ "U+10FFFF under utf8", IN("<\xf4\x8f\xbf\xbf@example.org>"),
	    false, true, "\xf4\x8f\xbf\xbf", "example.org", false, false, true,
	    18 },
	{ "ASCII path under utf8 is not utf8", IN("<a@example.org>"),
	    false, true, "a", "example.org", false, false, false, 15 },
	{ "bare Postmaster", IN("<Postmaster>"), false, false,
	    "Postmaster", "", false, false, false, 12 },
	{ "bare postmaster in any case", IN("<pOSTMASTER>"), false, false,
	    "Postmaster", "", false, false, false, 12 },
	{ "postmaster with a domain kept as received",
	    IN("<postmaster@example.org>"), false, false,
	    "postmaster", "example.org", false, false, false, 24 },
	{ "null path when allowed", IN("<>"), true, false,
	    "", "", true, false, false, 2 },
	{ "null path when allowed under utf8", IN("<>"), true, true,
	    "", "", true, false, false, 2 },
	{ "consumed stops before parameters", IN("<a@example.org> SIZE=100"),
	    false, false, "a", "example.org", false, false, false, 15 },
	{ "consumed for null path with parameters", IN("<> SIZE=100"),
	    true, false, "", "", true, false, false, 2 },
	{ "consumed for Postmaster with parameters",
	    IN("<Postmaster> NOTIFY=NEVER"), false, false,
	    "Postmaster", "", false, false, false, 12 },
	{ "consumed for quoted local part with >",
	    IN("<\"a>b\"@example.org> BODY=8BITMIME"), false, false,
	    "\"a>b\"", "example.org", false, false, false, 19 },
	{ "octets after > left alone", IN("<a@b>\xff\0"), false, false,
	    "a", "b", false, false, false, 5 },
};

struct path_bad {
	const char		*name;
	const char		*in;
	size_t			 len;
	bool			 allow_null;
	bool			 utf8;
	enum mailaddr_error	 err;
};

static const struct path_bad path_bad[] = {
	{ "empty input", IN(""), true, true, MAILADDR_ESYNTAX },
	{ "missing brackets", IN("alice@example.org"), false, false,
	    MAILADDR_ESYNTAX },
	{ "missing closing bracket", IN("<alice@example.org"), false, false,
	    MAILADDR_ESYNTAX },
	{ "missing opening bracket", IN("alice@example.org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "doubled brackets", IN("<<alice@example.org>>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "lone opening bracket", IN("<"), true, false, MAILADDR_ESYNTAX },
	{ "space after <", IN("< a@example.org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "space before >", IN("<a@example.org >"), false, false,
	    MAILADDR_ESYNTAX },
	{ "empty local part", IN("<@example.org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "no @", IN("<alice>"), false, false, MAILADDR_ESYNTAX },
	{ "empty domain", IN("<alice@>"), false, false, MAILADDR_ESYNTAX },
	{ "two @", IN("<a@b@example.org>"), false, false, MAILADDR_ESYNTAX },
	{ "space in local part", IN("<a b@example.org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "double dot in local part", IN("<a..b@example.org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "leading dot in local part", IN("<.a@example.org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "trailing dot in local part", IN("<a.@example.org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "double dot in domain", IN("<a@example..org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "leading dot in domain", IN("<a@.example.org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "trailing dot in domain", IN("<a@a.example.>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "label starting with hyphen", IN("<a@-a.example>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "label ending with hyphen", IN("<a@a-.example>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "underscore in domain", IN("<a@a_b.example>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "unterminated quoted string", IN("<\"abc@example.org>"), false,
	    false, MAILADDR_ESYNTAX },
	{ "backslash at the end of input", IN("<\"abc\\"), false, false,
	    MAILADDR_ESYNTAX },
	{ "tab in quoted string", IN("<\"a\tb\"@example.org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "control in quoted-pair", IN("<\"a\\\x01\"@example.org>"), false,
	    false, MAILADDR_ESYNTAX },
	{ "NUL byte in local part", IN("<a\0b@example.org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "NUL byte in domain", IN("<a@exa\0mple.org>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "NUL byte in quoted string", IN("<\"a\0b\"@example.org>"), false,
	    false, MAILADDR_ESYNTAX },
	{ "NUL byte in place of >", IN("<a@example.org\0"), false, false,
	    MAILADDR_ESYNTAX },
	{ "bad IPv4 literal", IN("<a@[192.0.2.256]>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "IPv4 literal of three parts", IN("<a@[192.0.2]>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "empty address literal", IN("<a@[]>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "unterminated address literal", IN("<a@[192.0.2.1>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "IPv6 literal without IPv6: tag", IN("<a@[2001:db8::1]>"), false,
	    false, MAILADDR_ESYNTAX },
	{ "bad IPv6 literal", IN("<a@[IPv6:2001:db8:::1]>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "IPv6 tag with no address", IN("<a@[IPv6:]>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "general address literal", IN("<a@[x-tag:content]>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "text after address literal", IN("<a@[192.0.2.1].example>"), false,
	    false, MAILADDR_ESYNTAX },
	{ "source route with a literal", IN("<@[192.0.2.1]:a@example.org>"),
	    false, false, MAILADDR_ESYNTAX },
	{ "source route without colon", IN("<@a.example,a@example.org>"),
	    false, false, MAILADDR_ESYNTAX },
	{ "source route without mailbox", IN("<@a.example:>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "source route with empty hop", IN("<@a.example,:a@example.org>"),
	    false, false, MAILADDR_ESYNTAX },
	{ "source route to bare Postmaster", IN("<@a.example:Postmaster>"),
	    false, false, MAILADDR_ESYNTAX },
	{ "Postmaster with trailing text", IN("<Postmasterx>"), false, false,
	    MAILADDR_ESYNTAX },
	{ "Postmaster without >", IN("<Postmaster"), false, false,
	    MAILADDR_ESYNTAX },
	{ "null path not allowed", IN("<>"), false, false, MAILADDR_ENULL },
	{ "null path not allowed under utf8", IN("<>"), false, true,
	    MAILADDR_ENULL },
	{ "non-ASCII local part without utf8", IN("<jö@example.org>"), true,
	    false, MAILADDR_EUTF8 },
	{ "non-ASCII domain without utf8", IN("<a@bücher.example>"), true,
	    false, MAILADDR_EUTF8 },
	{ "non-ASCII quoted string without utf8", IN("<\"jö\"@example.org>"),
	    true, false, MAILADDR_EUTF8 },
	{ "invalid octet without utf8", IN("<a\xff@example.org>"), true,
	    false, MAILADDR_EUTF8 },
	{ "8-bit octet in literal without utf8", IN("<a@[192.0.2.\xc3\xa9]>"),
	    false, false, MAILADDR_EUTF8 },
	{ "8-bit octet in literal under utf8", IN("<a@[192.0.2.\xc3\xa9]>"),
	    false, true, MAILADDR_ESYNTAX },
	{ "8-bit octet in quoted-pair under utf8",
	    IN("<\"a\\\xc3\xa9\"@example.org>"), false, true,
	    MAILADDR_ESYNTAX },
	{ "overlong two-octet UTF-8", IN("<\xc0\xaf@example.org>"), false,
	    true, MAILADDR_ESYNTAX },
	{ "overlong C1 lead UTF-8", IN("<\xc1\xbf@example.org>"), false, true,
	    MAILADDR_ESYNTAX },
	{ "overlong three-octet UTF-8", IN("<\xe0\x80\xaf@example.org>"),
	    false, true, MAILADDR_ESYNTAX },
	{ "overlong four-octet UTF-8", IN("<\xf0\x8f\xbf\xbf@example.org>"),
	    false, true, MAILADDR_ESYNTAX },
	{ "UTF-8 surrogate", IN("<\xed\xa0\x80@example.org>"), false, true,
	    MAILADDR_ESYNTAX },
	{ "UTF-8 past U+10FFFF", IN("<\xf4\x90\x80\x80@example.org>"), false,
	    true, MAILADDR_ESYNTAX },
	{ "UTF-8 lead octet F5", IN("<\xf5\x80\x80\x80@example.org>"), false,
	    true, MAILADDR_ESYNTAX },
	{ "lone UTF-8 continuation", IN("<\x80@example.org>"), false, true,
	    MAILADDR_ESYNTAX },
	{ "truncated UTF-8 before @", IN("<\xe2\x82@example.org>"), false,
	    true, MAILADDR_ESYNTAX },
	{ "truncated UTF-8 at end of input", IN("<a@b\xf0\x9f\x98"), false,
	    true, MAILADDR_ESYNTAX },
	{ "invalid UTF-8 in domain", IN("<a@b\xc3(.example>"), false, true,
	    MAILADDR_ESYNTAX },
	{ "invalid UTF-8 in quoted string", IN("<\"\xed\xbf\xbf\"@example>"),
	    false, true, MAILADDR_ESYNTAX },
};

struct mailbox_case {
	const char		*name;
	const char		*in;
	size_t			 len;
	bool			 utf8;
	enum mailaddr_error	 err;
	const char		*local;
	const char		*domain;
};

static const struct mailbox_case mailbox_cases[] = {
	{ "simple", IN("alice@example.org"), false, MAILADDR_OK,
	    "alice", "example.org" },
	{ "quoted local part", IN("\"a b\"@example.org"), false, MAILADDR_OK,
	    "\"a b\"", "example.org" },
	{ "IPv4 literal", IN("joe@[192.0.2.1]"), false, MAILADDR_OK,
	    "joe", "[192.0.2.1]" },
	{ "UTF-8 under utf8", IN("jö@bücher.example"), true, MAILADDR_OK,
	    "jö", "bücher.example" },
	{ "UTF-8 without utf8", IN("jö@example.org"), false, MAILADDR_EUTF8,
	    "", "" },
	{ "brackets refused", IN("<alice@example.org>"), false,
	    MAILADDR_ESYNTAX, "", "" },
	{ "trailing text refused", IN("alice@example.org "), false,
	    MAILADDR_ESYNTAX, "", "" },
	{ "empty refused", IN(""), false, MAILADDR_ESYNTAX, "", "" },
	{ "bare Postmaster refused", IN("Postmaster"), false,
	    MAILADDR_ESYNTAX, "", "" },
	{ "source route refused", IN("@a.example:b@c.example"), false,
	    MAILADDR_ESYNTAX, "", "" },
	{ "trailing dot refused", IN("a@example.org."), false,
	    MAILADDR_ESYNTAX, "", "" },
	{ "NUL byte refused", IN("a@example.org\0"), false, MAILADDR_ESYNTAX,
	    "", "" },
};

struct utf8_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	bool		 valid;
};

static const struct utf8_case utf8_cases[] = {
	{ "empty", IN(""), true },
	{ "ASCII with NUL", IN("a\0b"), true },
	{ "two octets", IN("\xc3\xa9"), true },
	{ "three octets", IN("\xe2\x82\xac"), true },
	{ "four octets", IN("\xf0\x9f\x98\x80"), true },
	{ "U+10FFFF", IN("\xf4\x8f\xbf\xbf"), true },
	{ "U+D7FF before surrogates", IN("\xed\x9f\xbf"), true },
	{ "U+E000 after surrogates", IN("\xee\x80\x80"), true },
	{ "overlong C0 80", IN("\xc0\x80"), false },
	{ "overlong C1 BF", IN("\xc1\xbf"), false },
	{ "overlong E0 80 80", IN("\xe0\x80\x80"), false },
	{ "overlong F0 80 80 80", IN("\xf0\x80\x80\x80"), false },
	{ "high surrogate", IN("\xed\xa0\x80"), false },
	{ "low surrogate", IN("\xed\xbf\xbf"), false },
	{ "past U+10FFFF", IN("\xf4\x90\x80\x80"), false },
	{ "lead F8", IN("\xf8\x88\x80\x80\x80"), false },
	{ "lone continuation", IN("\x80"), false },
	{ "truncated three octets", IN("\xe2\x82"), false },
	{ "truncated four octets", IN("a\xf0\x9f\x98"), false },
	{ "bad continuation", IN("\xc3\x28"), false },
};

/* A heap copy of exactly len bytes: ASan flags any read past the end. */
static char *
exact_copy(const char *s, size_t len)
{
	char	*p;

	p = malloc(len);
	if (len > 0) {
		assert_non_null(p);
		memcpy(p, s, len);
	}
	return p;
}

/* "<" local "@" domain ">" built from runs of one letter. */
static char *
make_path(size_t local_len, size_t domain_len, size_t *len_out)
{
	char	*p;
	size_t	 i, n;

	n = local_len + domain_len + 3;
	p = malloc(n);
	assert_non_null(p);
	p[0] = '<';
	memset(p + 1, 'l', local_len);
	p[local_len + 1] = '@';
	/* Labels of 62 octets so no label passes the 63-octet limit. */
	for (i = 0; i < domain_len; i++)
		p[local_len + 2 + i] = (i % 63 == 62) ? '.' : 'd';
	if (domain_len > 0 && p[local_len + 1 + domain_len] == '.')
		p[local_len + 1 + domain_len] = 'd';
	p[n - 1] = '>';
	*len_out = n;
	return p;
}

static void
test_path_ok(void **state)
{
	const struct path_ok	*t = *state;
	struct mailaddr		 a;
	size_t			 consumed = 999;
	char			*p;

	p = exact_copy(t->in, t->len);
	assert_int_equal(mailaddr_parse_path(p, t->len, t->allow_null,
	    t->utf8, &a, &consumed), MAILADDR_OK);
	assert_string_equal(a.local, t->local);
	assert_string_equal(a.domain, t->domain);
	assert_int_equal(a.is_null, t->is_null);
	assert_int_equal(a.is_literal, t->is_literal);
	assert_int_equal(a.utf8, t->is_utf8);
	assert_int_equal(consumed, t->consumed);
	free(p);
}

static void
test_path_bad(void **state)
{
	const struct path_bad	*t = *state;
	struct mailaddr		 a;
	size_t			 consumed = 999;
	char			*p;

	p = exact_copy(t->in, t->len);
	assert_int_equal(mailaddr_parse_path(p, t->len, t->allow_null,
	    t->utf8, &a, &consumed), t->err);
	assert_int_equal(consumed, 0);
	assert_string_equal(a.local, "");
	assert_string_equal(a.domain, "");
	free(p);
}

static void
test_mailbox(void **state)
{
	const struct mailbox_case	*t = *state;
	struct mailaddr			 a;
	char				*p;

	p = exact_copy(t->in, t->len);
	assert_int_equal(mailaddr_parse(p, t->len, t->utf8, &a), t->err);
	assert_string_equal(a.local, t->local);
	assert_string_equal(a.domain, t->domain);
	assert_false(a.is_null);
	free(p);
}

static void
test_utf8_valid(void **state)
{
	const struct utf8_case	*t = *state;
	char			*p;

	p = exact_copy(t->in, t->len);
	assert_int_equal(mailaddr_utf8_valid(p, t->len), t->valid);
	free(p);
}

static void
expect_path(size_t local_len, size_t domain_len, enum mailaddr_error err)
{
	struct mailaddr	a;
	size_t		len, consumed;
	char		*p;

	p = make_path(local_len, domain_len, &len);
	assert_int_equal(mailaddr_parse_path(p, len, false, false, &a,
	    &consumed), err);
	if (err == MAILADDR_OK) {
		assert_int_equal(strlen(a.local), local_len);
		assert_int_equal(strlen(a.domain), domain_len);
		assert_int_equal(consumed, len);
	}
	free(p);
}

static void
test_local_64_octets_ok(void **state)
{
	expect_path(64, 10, MAILADDR_OK);
}

static void
test_local_65_octets_too_long(void **state)
{
	expect_path(65, 10, MAILADDR_ELOCAL_TOO_LONG);
}

/* "<" DQUOTE n x "q" DQUOTE "@example.org>" */
static enum mailaddr_error
parse_quoted_run(size_t n)
{
	char		in[128];
	struct mailaddr	a;
	size_t		len = 0;

	in[len++] = '<';
	in[len++] = '"';
	memset(in + len, 'q', n);
	len += n;
	memcpy(in + len, "\"@example.org>", 14);
	len += 14;
	return mailaddr_parse_path(in, len, false, false, &a, NULL);
}

static void
test_quoted_local_64_octets_ok(void **state)
{
	assert_int_equal(parse_quoted_run(62), MAILADDR_OK);
}

static void
test_quoted_local_65_octets_too_long(void **state)
{
	assert_int_equal(parse_quoted_run(63), MAILADDR_ELOCAL_TOO_LONG);
}

static void
test_domain_256_octets_too_long(void **state)
{
	expect_path(1, 256, MAILADDR_EDOMAIN_TOO_LONG);
}

static void
test_domain_255_octets_passes_path_limit(void **state)
{
	/* 1 + 1 + 1 + 255 + 1 = 259: the domain fits, the path does not. */
	expect_path(1, 255, MAILADDR_EPATH_TOO_LONG);
}

static void
test_path_256_octets_ok(void **state)
{
	expect_path(64, 189, MAILADDR_OK);
	expect_path(1, 252, MAILADDR_OK);
}

static void
test_path_257_octets_too_long(void **state)
{
	expect_path(64, 190, MAILADDR_EPATH_TOO_LONG);
}

/*
 * "<@" route ":" 64 x "l" "@" 31 x "d" "." 31 x "d" ">": 132 octets
 * besides the route, which counts towards the 256 (RFC 5321 §4.5.3.1.3).
 */
static enum mailaddr_error
parse_routed(size_t route_len, size_t *consumed_out)
{
	char		in[300];
	struct mailaddr	a;
	size_t		i, len = 0;

	in[len++] = '<';
	in[len++] = '@';
	for (i = 0; i < route_len; i++)
		in[len++] = (i % 63 == 62) ? '.' : 'r';
	in[len++] = ':';
	memset(in + len, 'l', 64);
	len += 64;
	in[len++] = '@';
	memset(in + len, 'd', 31);
	len += 31;
	in[len++] = '.';
	memset(in + len, 'd', 31);
	len += 31;
	in[len++] = '>';
	assert_int_equal(len, route_len + 132);
	return mailaddr_parse_path(in, len, false, false, &a, consumed_out);
}

static void
test_path_256_octets_with_source_route_ok(void **state)
{
	size_t	consumed;

	assert_int_equal(parse_routed(124, &consumed), MAILADDR_OK);
	assert_int_equal(consumed, 256);
}

static void
test_path_257_octets_with_source_route(void **state)
{
	size_t	consumed;

	/* The route is two labels of 62 octets: well formed, but too long. */
	assert_int_equal(parse_routed(125, &consumed),
	    MAILADDR_EPATH_TOO_LONG);
}

static void
test_label_63_octets_ok_64_refused(void **state)
{
	char		in[80];
	struct mailaddr	a;
	size_t		consumed;

	memcpy(in, "<a@", 3);
	memset(in + 3, 'x', 64);
	in[67] = '>';
	assert_int_equal(mailaddr_parse_path(in, 68, false, false, &a,
	    &consumed), MAILADDR_ESYNTAX);
	in[66] = '>';
	assert_int_equal(mailaddr_parse_path(in, 67, false, false, &a,
	    &consumed), MAILADDR_OK);
}

static void
test_ulabel_over_63_octets_ok(void **state)
{
	char		in[100];
	struct mailaddr	a;
	size_t		consumed, i;

	/* 32 x "é" is 64 octets but only 32 characters. */
	memcpy(in, "<a@", 3);
	for (i = 0; i < 32; i++)
		memcpy(in + 3 + 2 * i, "\xc3\xa9", 2);
	in[67] = '>';
	assert_int_equal(mailaddr_parse_path(in, 68, false, true, &a,
	    &consumed), MAILADDR_OK);
	assert_true(a.utf8);
}

static void
test_syntax_error_before_length_error(void **state)
{
	char		in[100];
	struct mailaddr	a;
	size_t		consumed;

	in[0] = '<';
	memset(in + 1, 'l', 70);
	memcpy(in + 71, "@-bad>", 6);
	assert_int_equal(mailaddr_parse_path(in, 77, false, false, &a,
	    &consumed), MAILADDR_ESYNTAX);
}

static void
test_long_unterminated_input(void **state)
{
	struct mailaddr	a;
	size_t		consumed, len = 100000;
	char		*p;

	p = malloc(len);
	assert_non_null(p);
	p[0] = '<';
	memset(p + 1, 'a', len - 1);
	assert_int_equal(mailaddr_parse_path(p, len, false, false, &a,
	    &consumed), MAILADDR_ESYNTAX);
	assert_int_equal(consumed, 0);
	free(p);
}

static void
test_consumed_out_may_be_null(void **state)
{
	struct mailaddr	a;

	assert_int_equal(mailaddr_parse_path("<a@b>", 5, false, false, &a,
	    NULL), MAILADDR_OK);
	assert_string_equal(a.local, "a");
}

static void
test_mailbox_254_octets_ok_255_too_long(void **state)
{
	char		in[300];
	struct mailaddr	a;

	/* 64 + "@" + 189 = 254; the path form would be 256. */
	memset(in, 'l', 64);
	in[64] = '@';
	memset(in + 65, 'd', 62);
	in[127] = '.';
	memset(in + 128, 'd', 62);
	in[190] = '.';
	memset(in + 191, 'd', 63);
	assert_int_equal(mailaddr_parse(in, 254, false, &a), MAILADDR_OK);
	in[253] = '.';
	in[254] = 'd';
	assert_int_equal(mailaddr_parse(in, 255, false, &a),
	    MAILADDR_EPATH_TOO_LONG);
}

static void
test_format_simple(void **state)
{
	struct mailaddr	a;
	char		out[64];

	assert_int_equal(mailaddr_parse_path("<\"a b\"@example.org>", 19,
	    false, false, &a, NULL), MAILADDR_OK);
	assert_int_equal(mailaddr_format(&a, out, sizeof(out)), 0);
	assert_string_equal(out, "\"a b\"@example.org");
}

static void
test_format_null_path(void **state)
{
	struct mailaddr	a;
	char		out[4] = "xyz";

	assert_int_equal(mailaddr_parse_path("<>", 2, true, false, &a, NULL),
	    MAILADDR_OK);
	assert_int_equal(mailaddr_format(&a, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void
test_format_postmaster(void **state)
{
	struct mailaddr	a;
	char		out[16];

	assert_int_equal(mailaddr_parse_path("<postmaster>", 12, false,
	    false, &a, NULL), MAILADDR_OK);
	assert_int_equal(mailaddr_format(&a, out, sizeof(out)), 0);
	assert_string_equal(out, "Postmaster");
}

static void
test_format_exact_fit(void **state)
{
	struct mailaddr	a;
	char		out[8];

	assert_int_equal(mailaddr_parse("ab@cd.e", 7, false, &a),
	    MAILADDR_OK);
	assert_int_equal(mailaddr_format(&a, out, 8), 0);
	assert_string_equal(out, "ab@cd.e");
}

static void
test_format_too_small(void **state)
{
	struct mailaddr	a;
	char		out[8];

	assert_int_equal(mailaddr_parse("ab@cd.e", 7, false, &a),
	    MAILADDR_OK);
	memset(out, 'x', sizeof(out));
	assert_int_equal(mailaddr_format(&a, out, 7), -1);
	assert_string_equal(out, "");
	assert_int_equal(mailaddr_format(&a, out, 0), -1);
}

static void
test_format_round_trip(void **state)
{
	static const char	*in = "<@r.example:\"x\\\"y\"@[IPv6:::1]>";
	struct mailaddr		 a, b;
	char			 out[MAILADDR_PATH_MAX];

	assert_int_equal(mailaddr_parse_path(in, strlen(in), false, false,
	    &a, NULL), MAILADDR_OK);
	assert_int_equal(mailaddr_format(&a, out, sizeof(out)), 0);
	assert_string_equal(out, "\"x\\\"y\"@[IPv6:::1]");
	assert_int_equal(mailaddr_parse(out, strlen(out), false, &b),
	    MAILADDR_OK);
	assert_string_equal(a.local, b.local);
	assert_string_equal(a.domain, b.domain);
	assert_true(b.is_literal);
}

static void
test_strerror_texts(void **state)
{
	assert_string_equal(mailaddr_strerror(MAILADDR_ESYNTAX),
	    "Syntax error in mailbox address");
	assert_string_equal(mailaddr_strerror(MAILADDR_ELOCAL_TOO_LONG),
	    "Local part too long (64 octets max)");
	assert_string_equal(mailaddr_strerror(MAILADDR_EDOMAIN_TOO_LONG),
	    "Domain too long (255 octets max)");
	assert_string_equal(mailaddr_strerror(MAILADDR_EPATH_TOO_LONG),
	    "Path too long (256 octets max)");
	assert_string_equal(mailaddr_strerror(MAILADDR_EUTF8),
	    "Non-ASCII address requires SMTPUTF8");
	assert_string_equal(mailaddr_strerror(MAILADDR_ENULL),
	    "Null path not allowed here");
	assert_non_null(mailaddr_strerror(MAILADDR_OK));
	assert_non_null(mailaddr_strerror((enum mailaddr_error)99));
}

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static char *
test_name(const char *prefix, const char *name)
{
	char	*s;
	size_t	 n;

	n = strlen(prefix) + strlen(name) + 1;
	s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, "%s%s", prefix, name);
	return s;
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_local_64_octets_ok),
	cmocka_unit_test(test_local_65_octets_too_long),
	cmocka_unit_test(test_quoted_local_64_octets_ok),
	cmocka_unit_test(test_quoted_local_65_octets_too_long),
	cmocka_unit_test(test_domain_256_octets_too_long),
	cmocka_unit_test(test_domain_255_octets_passes_path_limit),
	cmocka_unit_test(test_path_256_octets_ok),
	cmocka_unit_test(test_path_257_octets_too_long),
	cmocka_unit_test(test_path_256_octets_with_source_route_ok),
	cmocka_unit_test(test_path_257_octets_with_source_route),
	cmocka_unit_test(test_label_63_octets_ok_64_refused),
	cmocka_unit_test(test_ulabel_over_63_octets_ok),
	cmocka_unit_test(test_syntax_error_before_length_error),
	cmocka_unit_test(test_long_unterminated_input),
	cmocka_unit_test(test_consumed_out_may_be_null),
	cmocka_unit_test(test_mailbox_254_octets_ok_255_too_long),
	cmocka_unit_test(test_format_simple),
	cmocka_unit_test(test_format_null_path),
	cmocka_unit_test(test_format_postmaster),
	cmocka_unit_test(test_format_exact_fit),
	cmocka_unit_test(test_format_too_small),
	cmocka_unit_test(test_format_round_trip),
	cmocka_unit_test(test_strerror_texts),
};

static void
add_test(struct CMUnitTest *t, size_t *n, const char *name,
    CMUnitTestFunction fn, const void *row)
{
	t[*n].name = name;
	t[*n].test_func = fn;
	t[*n].setup_func = NULL;
	t[*n].teardown_func = NULL;
	t[*n].initial_state = (void *)(uintptr_t)row;
	(*n)++;
}

int
main(void)
{
	struct CMUnitTest	*tests;
	size_t			 i, n = 0, total;
	int			 rc;

	total = NELEM(path_ok) + NELEM(path_bad) + NELEM(mailbox_cases) +
	    NELEM(utf8_cases) + NELEM(fixed_tests);
	tests = calloc(total, sizeof(*tests));
	assert_non_null(tests);
	for (i = 0; i < NELEM(path_ok); i++)
		add_test(tests, &n, test_name("path ok: ", path_ok[i].name),
		    test_path_ok, &path_ok[i]);
	for (i = 0; i < NELEM(path_bad); i++)
		add_test(tests, &n, test_name("path refused: ",
		    path_bad[i].name), test_path_bad, &path_bad[i]);
	for (i = 0; i < NELEM(mailbox_cases); i++)
		add_test(tests, &n, test_name("mailbox: ",
		    mailbox_cases[i].name), test_mailbox, &mailbox_cases[i]);
	for (i = 0; i < NELEM(utf8_cases); i++)
		add_test(tests, &n, test_name("utf8_valid: ",
		    utf8_cases[i].name), test_utf8_valid, &utf8_cases[i]);
	for (i = 0; i < NELEM(fixed_tests); i++)
		tests[n++] = fixed_tests[i];
	rc = _cmocka_run_group_tests("mailaddr", tests, n, NULL, NULL);
	for (i = 0; i < n - NELEM(fixed_tests); i++)
		free((char *)(uintptr_t)tests[i].name);
	free(tests);
	return rc;
}
