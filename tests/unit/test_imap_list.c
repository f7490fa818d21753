/*
 * Unit tests for imap_list: which names a LIST answers and with which
 * attributes, for folders, levels without a folder, subscriptions
 * (existing or not), the selection options of RFC 5258 (SUBSCRIBED,
 * RECURSIVEMATCH's CHILDINFO) and RFC 6154 (SPECIAL-USE), several
 * patterns, and the attribute text for the basic and extended forms.
 * The expected answers are Dovecot 2.3's for the same folders (see
 * tests/blackbox/test_imap_mailbox.py, which compares the two live).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "imap/imap_list.h"
#include "imap/imap_parse.h"

static char *folders[] = { "Sent", "a.b.c", "x", "zz" };
static char *subs[] = { "a.b.c", "gone", "p.q", "x", "inbox" };

static const char *
use_of(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "Sent") == 0 ? "\\Sent" : NULL;
}

/*
 * Run a LIST command line; the answer as "name attrs[ CHILDINFO]" lines
 * joined by "|", attributes as the wire shows them.
 */
static char *
list(const char *line)
{
	struct imap_cmd		 c;
	struct imap_list_in	 in;
	struct imap_list_entry	*v = NULL;
	struct buf		 b;
	const char		*err = NULL;
	size_t			 n = 0, i;
	char			*r;

	if (imap_parse_command(line, strlen(line), &c, &err) == -1)
		fail_msg("%s: %s", line, err);
	memset(&in, 0, sizeof(in));
	in.folders = folders;
	in.nfolders = sizeof(folders) / sizeof(folders[0]);
	in.subs = subs;
	in.nsubs = sizeof(subs) / sizeof(subs[0]);
	in.use = use_of;
	imap_list_run(&c, &in, &v, &n);
	buf_init(&b, 4096);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_int_equal(buf_append_char(&b, '|'), 0);
		assert_int_equal(buf_append_str(&b, v[i].name), 0);
		assert_int_equal(buf_append_char(&b, ' '), 0);
		imap_list_attrs(&c, &v[i], &b);
		if (v[i].attrs & IMAP_LIST_A_CHILDINFO)
			assert_int_equal(buf_append_str(&b, " CHILDINFO"), 0);
	}
	imap_list_free(v, n);
	imap_cmd_free(&c);
	r = strdup(b.data != NULL ? b.data : "");
	buf_free(&b);
	return r;
}

static void
check(const char *line, const char *want)
{
	char	*got = list(line);

	if (strcmp(got, want) != 0)
		fail_msg("%s\ngot:  %s\nwant: %s", line, got, want);
	free(got);
}

static void
test_basic(void **state)
{
	(void)state;
	/* INBOX first; levels without a folder \Noselect, as RFC 3501 */
	check("t LIST \"\" *\r\n", "INBOX (\\HasNoChildren)|"
	    "Sent (\\HasNoChildren \\Sent)|a (\\Noselect \\HasChildren)|"
	    "a.b (\\Noselect \\HasChildren)|a.b.c (\\HasNoChildren)|"
	    "x (\\HasNoChildren)|zz (\\HasNoChildren)");
	check("t LIST \"\" %\r\n", "INBOX (\\HasNoChildren)|"
	    "Sent (\\HasNoChildren \\Sent)|a (\\Noselect \\HasChildren)|"
	    "x (\\HasNoChildren)|zz (\\HasNoChildren)");
	check("t LIST a. %\r\n", "a.b (\\Noselect \\HasChildren)");
	check("t LIST \"\" inBoX\r\n", "INBOX (\\HasNoChildren)");
	check("t LIST \"\" nothing\r\n", "");
}

static void
test_extended(void **state)
{
	(void)state;
	/* the extended form: \NonExistent levels, nothing unasked */
	check("t LIST () \"\" a*\r\n", "a (\\NonExistent)|a.b (\\NonExistent)|"
	    "a.b.c ()");
	check("t LIST \"\" a* RETURN (CHILDREN)\r\n",
	    "a (\\NonExistent \\HasChildren)|"
	    "a.b (\\NonExistent \\HasChildren)|a.b.c (\\HasNoChildren)");
	check("t LIST \"\" (x zz x) RETURN (SUBSCRIBED)\r\n",
	    "x (\\Subscribed)|zz ()");
	check("t LIST \"\" S* RETURN (SPECIAL-USE)\r\n", "Sent (\\Sent)");
	check("t LIST \"\" S*\r\n", "Sent (\\HasNoChildren \\Sent)");
	check("t LIST () \"\" S*\r\n", "Sent ()");
	check("t LIST (SPECIAL-USE) \"\" *\r\n", "Sent (\\Sent)");
	check("t LIST \"\" \"\" RETURN ()\r\n", "");
}

static void
test_subscribed(void **state)
{
	(void)state;
	/* subscriptions, existing or not; "inbox" is INBOX */
	check("t LIST (SUBSCRIBED) \"\" *\r\n", "INBOX (\\Subscribed)|"
	    "a.b.c (\\Subscribed)|gone (\\NonExistent \\Subscribed)|"
	    "p.q (\\NonExistent \\Subscribed)|x (\\Subscribed)");
	/* RECURSIVEMATCH: a level above a subscription "%" cannot reach */
	check("t LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\n",
	    "INBOX (\\Subscribed)|a (\\NonExistent) CHILDINFO|"
	    "gone (\\NonExistent \\Subscribed)|p (\\NonExistent) CHILDINFO|"
	    "x (\\Subscribed)");
	/* ... but not when the pattern reaches the subscription itself */
	check("t LIST (SUBSCRIBED RECURSIVEMATCH) \"\" p*\r\n",
	    "p.q (\\NonExistent \\Subscribed)");
	check("t LIST (SUBSCRIBED) \"\" a* RETURN (CHILDREN)\r\n",
	    "a.b.c (\\Subscribed \\HasNoChildren)");
	/* a mere subscription is no child (RFC 3348) */
	check("t LIST (SUBSCRIBED RECURSIVEMATCH) \"\" p RETURN "
	    "(CHILDREN)\r\n", "p (\\NonExistent \\HasNoChildren) CHILDINFO");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_extended),
		cmocka_unit_test(test_subscribed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
