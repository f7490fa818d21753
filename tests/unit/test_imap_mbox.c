/*
 * Unit tests for imap_mbox's pure helpers: LIST pattern matching (RFC
 * 9051 §6.3.9: "*" crosses the "." delimiter, "%" does not) and the
 * INTERNALDATE form.  The mailbox commands themselves are driven
 * black-box in tests/blackbox/test_imap.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imap_mbox.h"

static bool
match(const char *pat, const char *name)
{
	return imap_mbox_match(pat, strlen(pat), name, strlen(name));
}

static void
test_match(void **state)
{
	static const struct {
		const char	*pat;
		const char	*name;
		bool		 want;
	} t[] = {
		{ "*", "INBOX", true },
		{ "*", "Lists.cachet.dev", true },
		{ "%", "Sent", true },
		{ "%", "Lists.cachet", false },
		{ "Lists.%", "Lists.cachet", true },
		{ "Lists.%", "Lists.cachet.dev", false },
		{ "Lists.*", "Lists.cachet.dev", true },
		{ "Lists*", "Lists", true },
		{ "L%s", "Lists", true },
		{ "L%s", "L.s", false },
		{ "Sent", "Sent", true },
		{ "Sent", "sent", false },
		{ "", "", true },
		{ "", "x", false },
		{ "%.%", "a.b", true },
		{ "*b*", "abc", true },
		{ "*b*", "acd", false },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (match(t[i].pat, t[i].name) != t[i].want)
			fail_msg("%s ~ %s: want %d", t[i].pat, t[i].name,
			    t[i].want);
}

static void
test_match_many_wildcards_is_quick(void **state)
{
	char	pat[513], name[201];

	/* quadratic at worst, not exponential */
	memset(pat, '*', 512);
	pat[511] = 'y';
	pat[512] = '\0';
	memset(name, 'x', 200);
	name[200] = '\0';
	assert_false(match(pat, name));
}

static void
test_date(void **state)
{
	char	out[27];

	imap_mbox_date(1706779230, out);
	assert_string_equal(out, "01-Feb-2024 09:20:30 +0000");
	imap_mbox_date(0, out);
	assert_string_equal(out, "01-Jan-1970 00:00:00 +0000");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_many_wildcards_is_quick),
		cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
