/*
 * Unit tests for mime_date.c, RFC 5322 date-times (§3.3) and their
 * obsolete forms (§4.3): Stalwart's date.json, every vector, against
 * timegm(3) as the oracle for the timestamp; the obsolete and real-world
 * forms one by one; what is not a date; two centuries of dates against
 * timegm(3); and hostile values (deep comments, a megabyte of them).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "mime_hdr.h"
#include "mime_vectors.h"

static struct span
sp(const char *s)
{
	return span_make(s, strlen(s));
}

/* The timestamp of a civil UTC time minus a zone, by timegm(3). */
static int64_t
oracle(int y, int mon, int d, int h, int mi, int s, int zone)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) - (int64_t)zone * 60;
}

static void
expect_date(const char *v, int64_t t, int zone)
{
	int64_t	got = -1;
	int	z = -1;

	if (mime_hdr_date(sp(v), &got, &z) != 0)
		fail_msg("not a date: \"%s\"", v);
	if (got != t || z != zone)
		fail_msg("\"%s\": %lld %d, want %lld %d", v, (long long)got, z,
		    (long long)t, zone);
}

static void
expect_no_date(const char *v)
{
	int64_t	got = 7;
	int	z = 7;

	if (mime_hdr_date(sp(v), &got, &z) != -1)
		fail_msg("a date: \"%s\" (%lld %d)", v, (long long)got, z);
	/* a valid, empty result */
	assert_int_equal(got, 0);
	assert_int_equal(z, 0);
}

/* Where our answer differs from date.json's on purpose. */
static const struct mime_vectors_diff date_differences[] = {
	{ 10, "none", "a numeric month (\"20 11 79\"): RFC 5322 §3.3 month "
	    "is a name, and Dovecot refuses it too" },
	{ 12, "none", "\" 4 8 15 16 23 42, ...\": no month name, no ':' in "
	    "the time; the expectation's zone \"4\" (+00:04) is no zone at "
	    "all (§3.3 zone is a sign and 4 digits, §4.3 a name)" },
};

static void
test_stalwart_date_vectors(void **state)
{
	const struct mime_vectors_diff	*d;
	json_t				*root, *vec, *e;
	struct span			 v;
	size_t				 i, agree = 0, documented = 0;
	int64_t				 t, want;
	int				 zone, wzone, rc;

	(void)state;
	root = mime_vectors_load("date.json");
	json_array_foreach(root, i, vec) {
		v = mime_vectors_field(json_object_get(vec, "header"));
		e = json_object_get(vec, "expected");
		rc = mime_hdr_date(v, &t, &zone);
		if ((d = mime_vectors_diff(date_differences,
		    sizeof(date_differences) / sizeof(date_differences[0]),
		    i)) != NULL) {
			if (rc != -1)
				fail_msg("date.json[%zu] (%s): parsed", i,
				    d->why);
			documented++;
			continue;
		}
		if (json_is_null(e)) {
			if (rc != -1)
				fail_msg("date.json[%zu]: parsed, want none", i);
			agree++;
			continue;
		}
		wzone = (int)(json_integer_value(json_object_get(e,
		    "tz_hour")) * 60 + json_integer_value(json_object_get(e,
		    "tz_minute")));
		if (json_is_true(json_object_get(e, "tz_before_gmt")))
			wzone = -wzone;
		want = oracle(
		    (int)json_integer_value(json_object_get(e, "year")),
		    (int)json_integer_value(json_object_get(e, "month")),
		    (int)json_integer_value(json_object_get(e, "day")),
		    (int)json_integer_value(json_object_get(e, "hour")),
		    (int)json_integer_value(json_object_get(e, "minute")),
		    (int)json_integer_value(json_object_get(e, "second")),
		    wzone);
		if (rc != 0 || t != want || zone != wzone)
			fail_msg("date.json[%zu] \"%.*s\": rc %d %lld %d, want "
			    "%lld %d", i, (int)v.len, v.ptr, rc, (long long)t,
			    zone, (long long)want, wzone);
		agree++;
	}
	mime_vectors_tally("date.json", root, 40, agree, documented);
	json_decref(root);
}

static void
test_obsolete_years_and_zones(void **state)
{
	(void)state;
	/* §4.3: 00-49 are 2000-2049, 50-99 1950-1999, 3 digits + 1900 */
	expect_date("1 Jan 49 00:00:00 +0000", oracle(2049, 1, 1, 0, 0, 0, 0),
	    0);
	expect_date("1 Jan 50 00:00:00 +0000", oracle(1950, 1, 1, 0, 0, 0, 0),
	    0);
	expect_date("1 Jan 103 00:00:00 +0000",
	    oracle(2003, 1, 1, 0, 0, 0, 0), 0);
	/* American zones; UT; military letters and unknown names are 0 */
	expect_date("1 Jul 2003 10:52:37 EDT",
	    oracle(2003, 7, 1, 10, 52, 37, -240), -240);
	expect_date("1 Jul 2003 10:52:37 pst",
	    oracle(2003, 7, 1, 10, 52, 37, -480), -480);
	expect_date("1 Jul 2003 10:52:37 UT",
	    oracle(2003, 7, 1, 10, 52, 37, 0), 0);
	expect_date("1 Jul 2003 10:52:37 B",
	    oracle(2003, 7, 1, 10, 52, 37, 0), 0);
	expect_date("1 Jul 2003 10:52:37 CEST",
	    oracle(2003, 7, 1, 10, 52, 37, 0), 0);
	/* no zone at all */
	expect_date("1 Jul 2003 10:52:37", oracle(2003, 7, 1, 10, 52, 37, 0),
	    0);
	/* "-0000": time in UTC, zone unknown */
	expect_date("1 Jul 2003 10:52:37 -0000",
	    oracle(2003, 7, 1, 10, 52, 37, 0), 0);
	/* what real mail writes: +hh:mm, GMT+hhmm, a POSIX TZ string */
	expect_date("1 Jul 2003 10:52:37 +05:30",
	    oracle(2003, 7, 1, 10, 52, 37, 330), 330);
	expect_date("1 Jul 2003 10:52:37 GMT+0100",
	    oracle(2003, 7, 1, 10, 52, 37, 60), 60);
	expect_date("1 Jul 2003 10:52:37 CST6CDT",
	    oracle(2003, 7, 1, 10, 52, 37, -360), -360);
	/* a zone that is no zone is an unknown one: 0, as §4.3 wants */
	expect_date("1 Jul 2003 10:52:37 +0260",
	    oracle(2003, 7, 1, 10, 52, 37, 0), 0);
	expect_date("1 Jul 2003 10:52:37 +12345",
	    oracle(2003, 7, 1, 10, 52, 37, 0), 0);
	expect_date("1 Jul 2003 10:52:37 -0330 (NST)",
	    oracle(2003, 7, 1, 10, 52, 37, -210), -210);
}

static void
test_real_world_forms(void **state)
{
	(void)state;
	/* full names, any case, no comma, one-digit hour, no seconds */
	expect_date("Tuesday, 1 July 2003 9:05 +0200",
	    oracle(2003, 7, 1, 9, 5, 0, 120), 120);
	expect_date("TUE 01 SEPT 2003 10:52:37 +0200",
	    oracle(2003, 9, 1, 10, 52, 37, 120), 120);
	/* '.' between the parts of the time; CFWS around ':' (obs-time) */
	expect_date("1 Jul 2003 10.52.37 +0200",
	    oracle(2003, 7, 1, 10, 52, 37, 120), 120);
	expect_date("1 Jul 2003 10 (h) : 52 : 37 +0200",
	    oracle(2003, 7, 1, 10, 52, 37, 120), 120);
	/* folding and extra whitespace */
	expect_date("\r\n\tTue,\r\n 1   Jul\t2003 10:52:37\r\n +0200  ",
	    oracle(2003, 7, 1, 10, 52, 37, 120), 120);
	/* ctime(3) and date(1) orders */
	expect_date("Wed Jun 30 21:49:08 1993",
	    oracle(1993, 6, 30, 21, 49, 8, 0), 0);
	expect_date("Wed Jun 30 21:49:08 EDT 1993",
	    oracle(1993, 6, 30, 21, 49, 8, -240), -240);
	expect_date("Jun 30 21:49:08 1993 +0100",
	    oracle(1993, 6, 30, 21, 49, 8, 60), 60);
	/* a leap second counts into the next minute, as timegm does */
	expect_date("31 Dec 2016 23:59:60 +0000",
	    oracle(2016, 12, 31, 23, 59, 60, 0), 0);
	/* a Received: value; the ';' in a comment of a Date is no cut */
	expect_date("from a by b with ESMTP id X; Mon, 10 Oct 2022 "
	    "10:31:15 -0700 (PDT)", oracle(2022, 10, 10, 10, 31, 15, -420),
	    -420);
	expect_date("Mon, 10 Oct 2022 10:31:15 -0700 (PDT; summer)",
	    oracle(2022, 10, 10, 10, 31, 15, -420), -420);
}

static void
test_not_a_date(void **state)
{
	(void)state;
	expect_no_date("");
	expect_no_date("   ");
	expect_no_date("(only a comment)");
	expect_no_date("yesterday");
	expect_no_date("29 Feb 2003 10:52:37 +0000");	/* not a leap year */
	expect_no_date("31 Apr 2003 10:52:37 +0000");
	expect_no_date("0 Apr 2003 10:52:37 +0000");
	expect_no_date("1 Jul 2003 24:00:00 +0000");
	expect_no_date("1 Jul 2003 10:60:00 +0000");
	expect_no_date("1 Jul 2003 10:52:61 +0000");
	expect_no_date("1 Jul 1899 10:52:37 +0000");	/* §3.3: >= 1900 */
	expect_no_date("1 Jul 12003 10:52:37 +0000");
	expect_no_date("1 Ju 2003 10:52:37 +0000");	/* too short */
	expect_no_date("1 Jul 2003");			/* no time */
	expect_no_date("1 Jul 2003 10");
	expect_no_date("Foo, 1 Jul 2003 10:52:37 +0000");
	expect_no_date("1 Jul 2003 (never closed 10:52:37 +0000");
	expect_no_date("a; b; c;");
}

static void
test_two_centuries_against_timegm(void **state)
{
	static const char *const mon[12] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec",
	};
	static const int	mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	char			v[128];
	int			y, m, d, zone, n = 0;

	(void)state;
	/* every 7th day from 1900 to 2199, at changing times and zones */
	for (y = 1900; y < 2200; y++) {
		for (m = 1; m <= 12; m++) {
			for (d = 1 + (y + m) % 7; d <= mdays[m - 1]; d += 7) {
				if (m == 2 && d == 29 && !((y % 4 == 0 &&
				    y % 100 != 0) || y % 400 == 0))
					continue;
				zone = ((y * 31 + m * 7 + d) % 57 - 28) * 30;
				(void)snprintf(v, sizeof(v),
				    "%d %s %d %02d:%02d:%02d %c%02d%02d", d,
				    mon[m - 1], y, (d * 5) % 24, (y + d) % 60,
				    (m * d) % 60, zone < 0 ? '-' : '+',
				    abs(zone) / 60, abs(zone) % 60);
				expect_date(v, oracle(y, m, d, (d * 5) % 24,
				    (y + d) % 60, (m * d) % 60, zone), zone);
				n++;
			}
		}
	}
	assert_true(n > 15000);
}

static void
test_hostile_values(void **state)
{
	struct buf	b;
	size_t		i;
	int64_t		t;
	int		z;

	(void)state;
	/* 500,000 nested comments before a date: skipped, then parsed */
	buf_init(&b, 2u << 20);
	for (i = 0; i < 500000; i++)
		assert_int_equal(buf_append_char(&b, '('), 0);
	for (i = 0; i < 500000; i++)
		assert_int_equal(buf_append_char(&b, ')'), 0);
	assert_int_equal(buf_append_str(&b, " 1 Jul 2003 10:52:37 +0200"), 0);
	assert_int_equal(mime_hdr_date(span_make(b.data, b.len), &t, &z), 0);
	assert_int_equal(t, oracle(2003, 7, 1, 10, 52, 37, 120));
	/* a megabyte of '(' never closed: not a date */
	buf_reset(&b);
	for (i = 0; i < (1u << 20); i++)
		assert_int_equal(buf_append_char(&b, '('), 0);
	assert_int_equal(mime_hdr_date(span_make(b.data, b.len), &t, &z), -1);
	/* a megabyte of ';': the cut is tried once */
	memset(b.data, ';', b.len);
	assert_int_equal(mime_hdr_date(span_make(b.data, b.len), &t, &z), -1);
	/* the span ends inside the zone's token: nothing past it is read
	   (a heap copy of exactly its length, for ASan) */
	free(b.data);
	b.data = malloc(25);
	assert_non_null(b.data);
	memcpy(b.data, "1 Jul 2003 10:52:37 +0200", 25);
	assert_int_equal(mime_hdr_date(span_make(b.data, 25), &t, &z), 0);
	assert_int_equal(z, 120);
	assert_int_equal(mime_hdr_date(span_make(b.data, 23), &t, &z), 0);
	assert_int_equal(z, 120);	/* "+02" */
	assert_int_equal(mime_hdr_date(span_make(b.data, 22), &t, &z), 0);
	assert_int_equal(z, 0);		/* "+0" */
	free(b.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stalwart_date_vectors),
		cmocka_unit_test(test_obsolete_years_and_zones),
		cmocka_unit_test(test_real_world_forms),
		cmocka_unit_test(test_not_a_date),
		cmocka_unit_test(test_two_centuries_against_timegm),
		cmocka_unit_test(test_hostile_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
