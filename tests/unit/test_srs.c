/*
 * Unit tests for srs.c: the SRS0 and SRS1 forms, round trips, a vector
 * computed by Python's hmac and base64 modules, tampering, expiry, case
 * folding, secret rotation and the 64-octet local-part limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "srs.h"

#define DAY	20000	/* 2024-10-04; 20000 % 1024 = 544 = "RA" */

static void
keys_set(struct srs_keys *k, const char *first, const char *second)
{
	memset(k, 0, sizeof(*k));
	k->n = 1;
	k->secret[0].len = strlen(first);
	memcpy(k->secret[0].key, first, k->secret[0].len);
	if (second != NULL) {
		k->n = 2;
		k->secret[1].len = strlen(second);
		memcpy(k->secret[1].key, second, k->secret[1].len);
	}
}

static const char *KEY = "0123456789abcdef0123456789abcdef";

static void
fwd(const struct srs_keys *k, const char *sender, int64_t day, char *out)
{
	enum srs_error	 e;

	assert_int_equal(srs_forward(k, sender, strlen(sender), "example.org",
	    day, out, SRS_ADDR_MAX + 1, &e), 0);
	assert_int_equal(e, SRS_OK);
}

static int
rev(const struct srs_keys *k, const char *srs, int64_t day, char *decoded,
    enum srs_error *e)
{
	return srs_reverse(k, srs, strlen(srs), day, SRS_MAX_AGE_DEFAULT,
	    decoded, SRS_ADDR_MAX + 1, e);
}

/*
 * The hash is HMAC-SHA256 over "0=ra=sender.example=alice", first five
 * bytes in base32; computed independently with
 * base64.b32encode(hmac.new(key, msg, hashlib.sha256).digest()[:5]).
 */
static void
test_srs0_vector(void **state)
{
	struct srs_keys	 k;
	char		 out[SRS_ADDR_MAX + 1];

	(void)state;
	keys_set(&k, KEY, NULL);
	fwd(&k, "alice@sender.example", DAY, out);
	assert_string_equal(out,
	    "SRS0=S4FA2X3X=RA=sender.example=alice@example.org");
}

static void
test_srs0_round_trip(void **state)
{
	struct srs_keys	 k;
	enum srs_error	 e;
	char		 out[SRS_ADDR_MAX + 1], back[SRS_ADDR_MAX + 1];
	const char	*senders[] = { "alice@sender.example",
	    "Bob.Smith+tag@Sub.Example.NET", "a=b=c@x.example",
	    "\"quoted@local\"@x.example" };
	size_t		 i;

	(void)state;
	keys_set(&k, KEY, NULL);
	for (i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
		fwd(&k, senders[i], DAY, out);
		assert_true(srs_is_srs(out, strlen(out)));
		assert_int_equal(rev(&k, out, DAY, back, &e), 0);
		assert_string_equal(back, senders[i]);
	}
}

static void
test_srs0_tamper(void **state)
{
	struct srs_keys	 k;
	enum srs_error	 e;
	char		 out[SRS_ADDR_MAX + 1], back[SRS_ADDR_MAX + 1];
	char		*p;

	(void)state;
	keys_set(&k, KEY, NULL);
	fwd(&k, "alice@sender.example", DAY, out);
	/* Another local part, same hash: an attacker's relay attempt. */
	p = strstr(out, "=alice@");
	memcpy(p + 1, "mallo", 5);
	assert_int_equal(rev(&k, out, DAY, back, &e), -1);
	assert_int_equal(e, SRS_EHASH);
	assert_string_equal(back, "");
	/* One hash character changed. */
	fwd(&k, "alice@sender.example", DAY, out);
	out[5] = out[5] == 'A' ? 'B' : 'A';
	assert_int_equal(rev(&k, out, DAY, back, &e), -1);
	assert_int_equal(e, SRS_EHASH);
	/* The timestamp moved to today on an old address. */
	fwd(&k, "alice@sender.example", DAY - 30, out);
	memcpy(out + 14, "RA", 2);
	assert_int_equal(rev(&k, out, DAY, back, &e), -1);
	assert_int_equal(e, SRS_EHASH);
	/* Another secret. */
	fwd(&k, "alice@sender.example", DAY, out);
	keys_set(&k, "another secret", NULL);
	assert_int_equal(rev(&k, out, DAY, back, &e), -1);
	assert_int_equal(e, SRS_EHASH);
}

static void
test_srs0_expiry(void **state)
{
	struct srs_keys	 k;
	enum srs_error	 e;
	char		 out[SRS_ADDR_MAX + 1], back[SRS_ADDR_MAX + 1];

	(void)state;
	keys_set(&k, KEY, NULL);
	fwd(&k, "alice@sender.example", DAY - SRS_MAX_AGE_DEFAULT, out);
	assert_int_equal(rev(&k, out, DAY, back, &e), 0);
	fwd(&k, "alice@sender.example", DAY - SRS_MAX_AGE_DEFAULT - 1, out);
	assert_int_equal(rev(&k, out, DAY, back, &e), -1);
	assert_int_equal(e, SRS_EEXPIRED);
	/* Across the 1024-day wrap of the timestamp. */
	fwd(&k, "alice@sender.example", 1023, out);
	assert_int_equal(rev(&k, out, 1024 + 3, back, &e), 0);
	/* A day in the future is 1023 days old. */
	fwd(&k, "alice@sender.example", DAY + 1, out);
	assert_int_equal(rev(&k, out, DAY, back, &e), -1);
	assert_int_equal(e, SRS_EEXPIRED);
}

static void
test_srs0_case_folded(void **state)
{
	struct srs_keys	 k;
	enum srs_error	 e;
	char		 out[SRS_ADDR_MAX + 1], back[SRS_ADDR_MAX + 1];
	size_t		 i;

	(void)state;
	keys_set(&k, KEY, NULL);
	fwd(&k, "Alice@Sender.Example", DAY, out);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	assert_true(srs_is_srs(out, strlen(out)));
	assert_int_equal(rev(&k, out, DAY, back, &e), 0);
	assert_string_equal(back, "alice@sender.example");
}

static void
test_srs_rotation(void **state)
{
	struct srs_keys	 old, both;
	enum srs_error	 e;
	char		 out[SRS_ADDR_MAX + 1], back[SRS_ADDR_MAX + 1];
	char		 fresh[SRS_ADDR_MAX + 1];

	(void)state;
	keys_set(&old, KEY, NULL);
	keys_set(&both, "new secret", KEY);
	fwd(&old, "alice@sender.example", DAY, out);
	/* The old secret, second now, still verifies ... */
	assert_int_equal(rev(&both, out, DAY, back, &e), 0);
	assert_string_equal(back, "alice@sender.example");
	/* ... and the first one signs. */
	fwd(&both, "alice@sender.example", DAY, fresh);
	assert_string_not_equal(fresh, out);
	assert_int_equal(rev(&old, fresh, DAY, back, &e), -1);
	assert_int_equal(e, SRS_EHASH);
}

static void
test_srs1(void **state)
{
	struct srs_keys	 a, b;
	enum srs_error	 e;
	char		 s0[SRS_ADDR_MAX + 1], s1[SRS_ADDR_MAX + 1];
	char		 again[SRS_ADDR_MAX + 1], back[SRS_ADDR_MAX + 1];
	char		 other[SRS_ADDR_MAX + 1];

	(void)state;
	/* The first forwarder, first.example, makes an SRS0 ... */
	keys_set(&a, "first forwarder", NULL);
	assert_int_equal(srs_forward(&a, "alice@sender.example", 20,
	    "first.example", DAY, s0, sizeof(s0), &e), 0);
	assert_memory_equal(s0, "SRS0=", 5);
	/* ... we forward it again: SRS1 naming first.example. */
	keys_set(&b, KEY, NULL);
	fwd(&b, s0, DAY, s1);
	assert_memory_equal(s1, "SRS1=", 5);
	assert_non_null(strstr(s1, "=first.example==") );
	assert_int_equal(rev(&b, s1, DAY, back, &e), 0);
	assert_string_equal(back, s0);
	/* The first forwarder decodes what we give back. */
	assert_int_equal(srs_reverse(&a, back, strlen(back), DAY, 21, again,
	    sizeof(again), &e), 0);
	assert_string_equal(again, "alice@sender.example");
	/* An SRS1 forwarded again keeps the first domain and rest. */
	assert_int_equal(srs_forward(&a, s1, strlen(s1), "third.example",
	    DAY, other, sizeof(other), &e), 0);
	assert_memory_equal(other, "SRS1=", 5);
	assert_non_null(strstr(other, "=first.example==") );
	assert_int_equal(srs_reverse(&a, other, strlen(other), DAY, 21, back,
	    sizeof(back), &e), 0);
	assert_string_equal(back, s0);
	/* A tampered SRS1 does not decode. */
	s1[strlen(s1) - 20] ^= 1;
	assert_int_equal(rev(&b, s1, DAY, back, &e), -1);
	assert_int_equal(e, SRS_EHASH);
}

static void
test_srs_too_long(void **state)
{
	struct srs_keys	 k;
	enum srs_error	 e;
	char		 out[SRS_ADDR_MAX + 1], sender[128];
	int		 n;

	(void)state;
	keys_set(&k, KEY, NULL);
	/* 17 + "x.example" (9) + "=" + 37 = 64: fits exactly ... */
	(void)snprintf(sender, sizeof(sender), "%.*s@x.example", 37,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	fwd(&k, sender, DAY, out);
	assert_int_equal(strchr(out, '@') - out, 64);
	/* ... one more octet does not. */
	n = snprintf(sender, sizeof(sender), "%.*s@x.example", 38,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(srs_forward(&k, sender, (size_t)n, "example.org",
	    DAY, out, sizeof(out), &e), -1);
	assert_int_equal(e, SRS_ETOOLONG);
	assert_string_equal(out, "");
	/* A small buffer is refused, not overrun. */
	assert_int_equal(srs_forward(&k, "a@b.example", 11, "example.org",
	    DAY, out, 20, &e), -1);
	assert_int_equal(e, SRS_ETOOLONG);
}

static void
test_srs_malformed(void **state)
{
	struct srs_keys	 k;
	enum srs_error	 e;
	char		 back[SRS_ADDR_MAX + 1];
	static const struct {
		const char	*addr;
		enum srs_error	 want;
	} cases[] = {
		{ "alice@example.org", SRS_ENOTSRS },
		{ "SRS2=AAAAAAAA=RA=x.example=a@example.org", SRS_ENOTSRS },
		{ "SRS0@example.org", SRS_ENOTSRS },
		{ "SRS0=@example.org", SRS_ESYNTAX },
		{ "SRS0=AAAA=RA=x.example=a@example.org", SRS_ESYNTAX },
		{ "SRS0=AAAAAAAA=R=x.example=a@example.org", SRS_ESYNTAX },
		{ "SRS0=AAAAAAAA=R1=x.example=a@example.org", SRS_ESYNTAX },
		{ "SRS0=AAAAAAAA=RA=x.example=@example.org", SRS_ESYNTAX },
		{ "SRS0=AAAAAAAA=RA==a@example.org", SRS_ESYNTAX },
		{ "SRS0=AAAAAAAA=RA=x.example@example.org", SRS_ESYNTAX },
		{ "SRS1=AAAAAAAA=x.example=@example.org", SRS_ESYNTAX },
		{ "SRS0=AAAAAAAA=RA=x.example=a", SRS_ESYNTAX },
		{ "SRS0=AAAAAAAA=RA=x.example=a@example.org", SRS_EHASH },
	};
	size_t		 i;

	(void)state;
	keys_set(&k, KEY, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(rev(&k, cases[i].addr, DAY, back, &e), -1);
		assert_int_equal(e, cases[i].want);
	}
	/* Forward refuses what is not an address. */
	assert_int_equal(srs_forward(&k, "noat", 4, "example.org", DAY,
	    back, sizeof(back), &e), -1);
	assert_int_equal(e, SRS_ESYNTAX);
	assert_int_equal(srs_forward(&k, "@x.example", 10, "example.org",
	    DAY, back, sizeof(back), &e), -1);
	assert_int_equal(e, SRS_ESYNTAX);
}

static void
test_srs_day(void **state)
{
	(void)state;
	assert_int_equal(srs_day(0), 0);
	assert_int_equal(srs_day(86399), 0);
	assert_int_equal(srs_day(86400), 1);
	assert_int_equal(srs_day(1728000000), 20000);
	assert_int_equal(srs_day(-1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srs0_vector),
		cmocka_unit_test(test_srs0_round_trip),
		cmocka_unit_test(test_srs0_tamper),
		cmocka_unit_test(test_srs0_expiry),
		cmocka_unit_test(test_srs0_case_folded),
		cmocka_unit_test(test_srs_rotation),
		cmocka_unit_test(test_srs1),
		cmocka_unit_test(test_srs_too_long),
		cmocka_unit_test(test_srs_malformed),
		cmocka_unit_test(test_srs_day),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
