/*
 * spf: the Sender Policy Framework (RFC 7208).  This header is the part
 * other modules share: the results (§2.6).  The evaluator itself
 * (record and macro parser, check_host() over an asynchronous DNS
 * interface) is in spf.c; the lookup role runs it (lookup_spf.c).
 */
#ifndef CACHET_SPF_H
#define CACHET_SPF_H

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};
#define SPF_RESULT_COUNT	7

/* "none", "neutral", "pass", ... as RFC 7208 §2.6 and RFC 8601 name them. */
const char	*spf_result_name(enum spf_result);

#endif
