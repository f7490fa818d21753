/*
 * mime_date: RFC 5322 date-times (§3.3) with the obsolete forms of §4.3
 * and what real mail writes besides: two- and three-digit years,
 * alphabetic and military zones, no seconds, no day of week, comments
 * and folding anywhere, full month and day names, '.' between the parts
 * of the time, "+hh:mm" zones, the ctime(3) order of old Unix mailers
 * ("Wed Jun 30 21:49:08 1993"), and a Received: value (the date-time
 * after its last ';', RFC 5322 §3.6.7).
 *
 * Pure, no clock and no TZ: the civil date is turned into days since the
 * epoch here (proleptic Gregorian calendar), not by mktime().  The value
 * is hostile; every loop is bounded by its length.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "mime_hdr.h"

#define DATE_YEAR_MIN	1900	/* RFC 5322 §3.3: "1900 or later" */
#define DATE_YEAR_MAX	9999
#define DATE_ZONE_MAX	(99 * 60 + 59)	/* ±9959, what 4DIGIT can say */

static const char *const date_months[12] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december",
};

static const char *const date_days[7] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
	"sunday",
};

/*
 * Alphabetic zones (RFC 5322 §4.3, obs-zone).  UT, GMT and the American
 * zones are known; the military letters are not listed: RFC 822 gave
 * them the wrong sign, so §4.3 says to read them, and every other
 * unknown zone, as "-0000" (an unknown zone, offset 0).
 */
static const struct {
	const char	*name;
	int		 minutes;
} date_zones[] = {
	{ "ut", 0 }, { "utc", 0 }, { "gmt", 0 }, { "z", 0 },
	{ "est", -5 * 60 }, { "edt", -4 * 60 },
	{ "cst", -6 * 60 }, { "cdt", -5 * 60 },
	{ "mst", -7 * 60 }, { "mdt", -6 * 60 },
	{ "pst", -8 * 60 }, { "pdt", -7 * 60 },
};

struct date_parts {
	int64_t	year;
	int	month;	/* 1..12 */
	int	day;
	int	hour;
	int	minute;
	int	second;
	int	zone;	/* minutes east of UTC */
};

static bool
date_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
date_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char
date_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* 1*DIGIT of at most maxlen digits into *out; false otherwise. */
static bool
date_number(struct span t, size_t maxlen, int64_t *out)
{
	size_t	i;
	int64_t	n = 0;

	if (t.len == 0 || t.len > maxlen)
		return false;
	for (i = 0; i < t.len; i++) {
		if (!date_is_digit(t.ptr[i]))
			return false;
		n = n * 10 + (t.ptr[i] - '0');
	}
	*out = n;
	return true;
}

/*
 * A name that is at least three letters and a prefix of one of names
 * ("Jul", "July", "Sept", "Thurs"): its index, or -1.
 */
static int
date_name(struct span t, const char *const *names, int n)
{
	size_t	i, nlen;
	int	k;

	if (t.len < 3)
		return -1;
	for (k = 0; k < n; k++) {
		nlen = strlen(names[k]);
		if (t.len > nlen)
			continue;
		for (i = 0; i < t.len; i++)
			if (date_lower(t.ptr[i]) != names[k][i])
				break;
		if (i == t.len)
			return k;
	}
	return -1;
}

/* The next atom after CFWS; an empty span when there is none. */
static struct span
date_atom(struct span *s)
{
	struct span	a;

	mime_lex_cfws(s);
	if (!mime_lex_atom(s, false, &a))
		a = span_make(s->ptr, 0);
	return a;
}

/* CFWS, then c (or, for a time separator, '.') when it is next. */
static bool
date_sep(struct span *s, char c)
{
	mime_lex_cfws(s);
	if (s->len > 0 && (s->ptr[0] == c || (c == ':' && s->ptr[0] == '.'))) {
		s->ptr++;
		s->len--;
		return true;
	}
	return false;
}

/*
 * hh ":" mm [":" ss], RFC 5322 §3.3 time-of-day with obs-time's CFWS
 * around the colons; a one-digit hour and '.' as separator are taken
 * as real mail writes them.
 */
static bool
date_time(struct span *s, struct date_parts *d)
{
	struct span	save;
	int64_t		n;

	if (!date_number(date_atom(s), 2, &n) || n > 23)
		return false;
	d->hour = (int)n;
	if (!date_sep(s, ':'))
		return false;
	if (!date_number(date_atom(s), 2, &n) || n > 59)
		return false;
	d->minute = (int)n;
	save = *s;
	d->second = 0;
	if (date_sep(s, ':')) {
		/* 60: a leap second (§3.3) */
		if (!date_number(date_atom(s), 2, &n) || n > 60)
			return false;
		d->second = (int)n;
	} else
		*s = save;
	return true;
}

/* "+hhmm", "-hhmm", "+hh:mm", "+hh" (sign included in t) */
static bool
date_numeric_zone(struct span t, struct span *s, int *zone)
{
	struct span	rest, mm;
	int64_t		h, m = 0;

	if (t.len < 2 || (t.ptr[0] != '+' && t.ptr[0] != '-'))
		return false;
	rest = span_make(t.ptr + 1, t.len - 1);
	if (rest.len == 4) {
		if (!date_number(span_make(rest.ptr, 2), 2, &h) ||
		    !date_number(span_make(rest.ptr + 2, 2), 2, &m))
			return false;
	} else if (date_number(rest, 2, &h)) {
		/* "+02:00": the minutes follow a colon */
		if (s != NULL && s->len > 0 && s->ptr[0] == ':') {
			rest = span_make(s->ptr + 1, s->len - 1);
			if (mime_lex_atom(&rest, false, &mm) &&
			    date_number(mm, 2, &m))
				*s = rest;
			else
				m = 0;
		}
	} else
		return false;
	if (m > 59)
		return false;
	*zone = (int)(h * 60 + m);
	if (t.ptr[0] == '-')
		*zone = -*zone;
	return true;
}

/*
 * The zone after the time; an absent or unknown one is 0 (§4.3).  An
 * alphabetic zone is read by its leading letters, so that a POSIX TZ
 * string ("EST5EDT") gives its standard time and "GMT+0100" its offset.
 */
static void
date_zone(struct span *s, struct date_parts *d)
{
	struct span	t, name, rest;
	size_t		i, k;

	d->zone = 0;
	t = date_atom(s);
	if (t.len == 0)
		return;
	if (date_numeric_zone(t, s, &d->zone))
		return;
	for (i = 0; i < t.len && date_is_alpha(t.ptr[i]); i++)
		;
	name = span_make(t.ptr, i);
	rest = span_make(t.ptr + i, t.len - i);
	for (k = 0; k < sizeof(date_zones) / sizeof(date_zones[0]); k++) {
		if (!span_caseeq(name, date_zones[k].name))
			continue;
		if (date_zones[k].minutes == 0 && rest.len > 0 &&
		    date_numeric_zone(rest, NULL, &d->zone))
			return;
		d->zone = date_zones[k].minutes;
		return;
	}
}

/* RFC 5322 §4.3: 2 digits 00-49 are 20xx, 50-99 19xx; 3 digits + 1900. */
static bool
date_year(struct span t, struct date_parts *d)
{
	int64_t	y;

	if (!date_number(t, 4, &y))
		return false;
	if (t.len == 2)
		y += y < 50 ? 2000 : 1900;
	else if (t.len == 3)
		y += 1900;
	if (y < DATE_YEAR_MIN || y > DATE_YEAR_MAX)
		return false;
	d->year = y;
	return true;
}

static bool
date_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool
date_valid(const struct date_parts *d)
{
	static const int	mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int			n;

	n = mdays[d->month - 1];
	if (d->month == 2 && date_leap(d->year))
		n = 29;
	return d->day >= 1 && d->day <= n && d->zone >= -DATE_ZONE_MAX &&
	    d->zone <= DATE_ZONE_MAX;
}

/*
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar:
 * count from 0000-03-01 in 400-year eras of 146097 days, with March as
 * the first month so that the leap day ends a year.
 */
static int64_t
date_days_from_civil(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = y / 400;	/* y >= DATE_YEAR_MIN - 1: no negative era */
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* [day-of-week [","]] day month year time [zone] */
static bool
date_rfc5322(struct span s, struct date_parts *d)
{
	struct span	t;
	int64_t		n;
	int		m;

	t = date_atom(&s);
	if (t.len > 0 && date_is_alpha(t.ptr[0])) {
		if (date_name(t, date_days, 7) == -1)
			return false;
		(void)date_sep(&s, ',');
		t = date_atom(&s);
	}
	if (!date_number(t, 2, &n))
		return false;
	d->day = (int)n;
	if ((m = date_name(date_atom(&s), date_months, 12)) == -1)
		return false;
	d->month = m + 1;
	if (!date_year(date_atom(&s), d) || !date_time(&s, d))
		return false;
	date_zone(&s, d);
	return true;
}

/* ctime(3) and date(1): [day-of-week] month day time [zone] year */
static bool
date_ctime(struct span s, struct date_parts *d)
{
	struct span	t, save;
	int64_t		n;
	int		m;

	t = date_atom(&s);
	if (date_name(t, date_days, 7) != -1) {
		(void)date_sep(&s, ',');
		t = date_atom(&s);
	}
	if ((m = date_name(t, date_months, 12)) == -1)
		return false;
	d->month = m + 1;
	if (!date_number(date_atom(&s), 2, &n))
		return false;
	d->day = (int)n;
	if (!date_time(&s, d))
		return false;
	save = s;
	t = date_atom(&s);
	if (t.len == 4 && date_year(t, d)) {
		date_zone(&s, d);
		return true;
	}
	s = save;
	date_zone(&s, d);
	return date_year(date_atom(&s), d);
}

static bool
date_parse(struct span s, struct date_parts *d)
{
	memset(d, 0, sizeof(*d));
	if (date_rfc5322(s, d) && date_valid(d))
		return true;
	memset(d, 0, sizeof(*d));
	return date_ctime(s, d) && date_valid(d);
}

int
mime_hdr_date(struct span value, int64_t *time_out, int *zone_min_out)
{
	struct date_parts	d;
	const char		*semi;

	*time_out = 0;
	*zone_min_out = 0;
	if (!date_parse(value, &d)) {
		/* A Received: value: its date-time follows the last ';'. */
		if (value.len == 0 ||
		    (semi = memrchr(value.ptr, ';', value.len)) == NULL)
			return -1;
		value = span_make(semi + 1,
		    value.len - (size_t)(semi + 1 - value.ptr));
		if (!date_parse(value, &d))
			return -1;
	}
	*time_out = date_days_from_civil(d.year, d.month, d.day) * 86400 +
	    d.hour * 3600 + d.minute * 60 + d.second - (int64_t)d.zone * 60;
	*zone_min_out = d.zone;
	return 0;
}
