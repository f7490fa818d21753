/*
 * Unit tests for arc.c (RFC 8617) against ValiMail's ARC test suite
 * (tests/data/dkim/arc_test_suite, see tests/data/README.md) and
 * Stalwart's two real chains (tests/data/dkim/stalwart-mail-auth-arc).
 *
 * Every case of arc-draft-validation-tests.yml runs: its message through
 * arc_chain_parse() and arc_chain_verify(), the keys from the document's
 * txt-records (the fake DNS), and the result compared with its cv:
 * "None", "Pass", "Fail", and empty, which the suite writes where the
 * newest seal says cv=fail: RFC 8617 §5.2 step 3 makes that a fail.
 *
 * Every case of arc-draft-sign-tests.yml runs: the message sealed with
 * the document's key at the case's t= with its sig-headers, and the
 * three fields produced compared with AS, AMS and AAR, white space
 * aside (the YAML drops the folding's indentation): the b= values match
 * octet for octet, RSA PKCS#1 v1.5 being deterministic.  The suite's
 * signer builds the AAR from the message's Authentication-Results fields
 * of srv-id (merged, comments before the first ';' dropped) and takes cv
 * from their arc= result; sign_ar() below does that part, as cachet seals
 * over its own single A-R.
 *
 * Cases whose expectation RFC 8617 overrules are listed in rfc_over_suite
 * with the reason; they are asserted to give the RFC's result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <yaml.h>

#include "arc.h"
#include "sasl.h"
#include "util.h"

#define SUITE		"dkim/arc_test_suite"
#define STALWART	"dkim/stalwart-mail-auth-arc"
#define MSG_MAX		(256 * 1024)

static const struct {
	const char	*name;
	enum arc_cv	 cv;
	const char	*why;
} rfc_over_suite[] = {
	{ "ams_fields_a_sha1", ARC_CV_FAIL,
	    "a=rsa-sha1: RFC 8617 §4.1.2 and §4.1.3 allow rsa-sha256 only "
	    "(RFC 8301 §3.1); the suite predates that" },
	{ "as_fields_a_sha1", ARC_CV_FAIL,
	    "a=rsa-sha1: RFC 8617 §4.1.3 allows rsa-sha256 only" },
};

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* --- the YAML, as libyaml's document tree --- */

static char *
path_of(const char *rel)
{
	static char	 path[512];
	const char	*root = getenv("CACHET_TESTDATA");

	(void)snprintf(path, sizeof(path), "%s/%s", root != NULL ? root :
	    "tests/data", rel);
	return path;
}

static yaml_node_t *
map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(doc, p->key);
		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

static const char *
scalar(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* The YAML's LF lines as CRLF. */
static void
to_crlf(const char *s, struct buf *out)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			assert_int_equal(buf_append_char(out, '\r'), 0);
		assert_int_equal(buf_append_char(out, *s), 0);
	}
}

/* Split a CRLF message into its header section and body. */
static void
split_message(const struct buf *msg, struct span *hdrs, struct span *body)
{
	const char	*sep;

	if (msg->len == 0) {
		*hdrs = *body = span_make("", 0);
		return;
	}
	if (msg->len >= 2 && memcmp(msg->data, "\r\n", 2) == 0) {
		*hdrs = span_make(msg->data, 0);
		*body = span_make(msg->data + 2, msg->len - 2);
		return;
	}
	sep = memmem(msg->data, msg->len, "\r\n\r\n", 4);
	if (sep == NULL) {
		*hdrs = span_make(msg->data, msg->len);
		*body = span_make(msg->data + msg->len, 0);
		return;
	}
	*hdrs = span_make(msg->data, (size_t)(sep - msg->data) + 2);
	*body = span_make(sep + 4, msg->len - hdrs->len - 2);
}

/* --- the fake DNS and body hashes the validator asks for --- */

struct fake {
	yaml_document_t	*doc;
	yaml_node_t	*txt;		/* txt-records */
	struct span	 body;
	EVP_PKEY	*keys[16];
	size_t		 nkeys;
	size_t		 lookups;
};

static EVP_PKEY *
fake_key(void *arg, const char *d, const char *s, bool *temp)
{
	struct fake	*f = arg;
	char		 owner[600];
	const char	*rec, *err;
	EVP_PKEY	*key;

	*temp = false;
	f->lookups++;
	(void)snprintf(owner, sizeof(owner), "%s._domainkey.%s", s, d);
	if ((rec = scalar(map_get(f->doc, f->txt, owner))) == NULL)
		return NULL;
	if ((key = arc_key_parse(span_str(rec), &err)) == NULL)
		return NULL;
	assert_true(f->nkeys < 16);
	f->keys[f->nkeys++] = key;
	return key;
}

/* The body hash (canon, sha256, limit) of body. */
static void
hash_body(struct span body, enum dkim_canon canon, uint64_t limit,
    unsigned char *out)
{
	struct dkim_bh_spec	 spec = { canon, DKIM_HASH_SHA256, limit };
	struct dkim_bh		*bh = dkim_bh_new(&spec);
	uint64_t		 hashed;

	dkim_bh_update(bh, body.ptr, body.len);
	assert_int_equal(dkim_bh_final(bh, out, &hashed), DKIM_DIGEST_MAX);
	dkim_bh_free(bh);
}

static int
fake_bh(void *arg, enum dkim_canon canon, uint64_t limit,
    unsigned char *out)
{
	hash_body(((struct fake *)arg)->body, canon, limit, out);
	return 0;
}

static void
fake_free(struct fake *f)
{
	while (f->nkeys > 0)
		EVP_PKEY_free(f->keys[--f->nkeys]);
}

static enum arc_cv
validate(yaml_document_t *doc, yaml_node_t *txt, const char *message,
    struct arc_chain *c)
{
	struct buf		 msg;
	struct span		 hdrs;
	struct fake		 f = { .doc = doc, .txt = txt };
	struct arc_verify_ops	 ops = { fake_bh, fake_key, &f };

	buf_init(&msg, MSG_MAX);
	to_crlf(message, &msg);
	split_message(&msg, &hdrs, &f.body);
	arc_chain_parse(hdrs, c);
	arc_chain_verify(c, hdrs, &ops);
	fake_free(&f);
	buf_free(&msg);
	return c->result;
}

static enum arc_cv
cv_of(const char *s)
{
	if (strcmp(s, "Pass") == 0)
		return ARC_CV_PASS;
	if (strcmp(s, "None") == 0)
		return ARC_CV_NONE;
	/* "Fail", and "" where the newest seal says cv=fail (§5.2 step 3) */
	assert_true(strcmp(s, "Fail") == 0 || strcmp(s, "") == 0 ||
	    strcmp(s, "\n") == 0);
	return ARC_CV_FAIL;
}

static const char *
cv_name(enum arc_cv cv)
{
	return cv == ARC_CV_PASS ? "pass" : cv == ARC_CV_FAIL ? "fail" :
	    "none";
}

static bool
overruled(const char *name, enum arc_cv *cv)
{
	size_t	i;

	for (i = 0; i < sizeof(rfc_over_suite) / sizeof(rfc_over_suite[0]);
	    i++)
		if (strcmp(rfc_over_suite[i].name, name) == 0) {
			*cv = rfc_over_suite[i].cv;
			print_message("%s: %s\n", name, rfc_over_suite[i].why);
			return true;
		}
	return false;
}

/*
 * Each case of each document (scenario) of a suite file: fn(doc, the
 * document's root, the case's name and mapping, arg).
 */
typedef void (*suite_case_fn)(yaml_document_t *, yaml_node_t *root,
    const char *name, yaml_node_t *test, void *arg);

static void
suite_each(const char *file, suite_case_fn fn, void *arg)
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc;
	yaml_node_t	*root, *tests;
	yaml_node_pair_t *p;
	FILE		*fp;

	assert_non_null(fp = fopen(path_of(file), "r"));
	assert_int_equal(yaml_parser_initialize(&parser), 1);
	yaml_parser_set_input_file(&parser, fp);
	for (;;) {
		assert_int_equal(yaml_parser_load(&parser, &doc), 1);
		if ((root = yaml_document_get_root_node(&doc)) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		tests = map_get(&doc, root, "tests");
		assert_non_null(tests);
		for (p = tests->data.mapping.pairs.start;
		    p < tests->data.mapping.pairs.top; p++)
			fn(&doc, root, scalar(yaml_document_get_node(&doc,
			    p->key)), yaml_document_get_node(&doc, p->value),
			    arg);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	(void)fclose(fp);
}

struct vstats {
	struct arc_chain *c;
	size_t		 cases, bad, npass, nfail, nnone, over;
};

static void
validation_case(yaml_document_t *doc, yaml_node_t *root, const char *name,
    yaml_node_t *test, void *arg)
{
	struct vstats	*st = arg;
	const char	*message = scalar(map_get(doc, test, "message"));
	const char	*cv = scalar(map_get(doc, test, "cv"));
	enum arc_cv	 want, got;

	assert_non_null(message);
	assert_non_null(cv);
	want = cv_of(cv);
	if (overruled(name, &want))
		st->over++;
	got = validate(doc, map_get(doc, root, "txt-records"), message,
	    st->c);
	st->cases++;
	st->npass += got == ARC_CV_PASS;
	st->nfail += got == ARC_CV_FAIL;
	st->nnone += got == ARC_CV_NONE;
	if (got != want) {
		print_message("%s: want %s, got %s (%s)\n", name,
		    cv_name(want), cv_name(got), st->c->reason);
		st->bad++;
	}
}

static void
test_validation_suite(void **state)
{
	struct vstats	st = { .c = xcalloc(1, sizeof(*st.c)) };

	(void)state;
	suite_each(SUITE "/arc-draft-validation-tests.yml", validation_case,
	    &st);
	free(st.c);
	print_message("arc validation suite: %zu cases, %zu as expected "
	    "(%zu pass, %zu fail, %zu none; %zu where RFC 8617 overrules "
	    "the suite), %zu wrong\n", st.cases, st.cases - st.bad,
	    st.npass, st.nfail, st.nnone, st.over, st.bad);
	/* 174 keys in the file; one name is used twice (as_fields_b_*) */
	assert_int_equal(st.cases, 174);
	assert_int_equal(st.bad, 0);
}

/* --- sealing --- */

/* Skip CFWS: white space and (nested) comments. */
static size_t
skip_cfws(const char *s, size_t i, size_t n)
{
	int	depth = 0;

	for (; i < n; i++) {
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && depth > 0)
			depth--;
		else if (depth == 0 && !is_space(s[i]))
			break;
	}
	return i;
}

/*
 * The suite's AAR content: "srv-id; " and the results of every A-R of
 * srv-id, in order, one per line; *cv from their arc= result.
 */
static void
sign_ar(struct span hdrs, const char *srv_id, struct buf *ar,
    enum arc_cv *cv)
{
	struct span	 field, name, v, r;
	size_t		 pos = 0, i, j, n = 0;

	*cv = ARC_CV_NONE;
	assert_int_equal(buf_printf(ar, "%s", srv_id), 0);
	while (dkim_header_next(hdrs, &pos, &field, &name) == 1) {
		if (!span_caseeq(name, "Authentication-Results"))
			continue;
		v = span_make((const char *)memchr(field.ptr, ':', field.len) +
		    1, 0);
		v.len = field.len - (size_t)(v.ptr - field.ptr);
		i = skip_cfws(v.ptr, 0, v.len);
		for (j = i; j < v.len && v.ptr[j] != ';' && v.ptr[j] != '(' &&
		    !is_space(v.ptr[j]); j++)
			;
		if (j - i != strlen(srv_id) ||
		    strncasecmp(v.ptr + i, srv_id, j - i) != 0)
			continue;
		while (j < v.len && v.ptr[j] != ';')
			j++;
		/* each result after the authserv-id, trimmed */
		for (i = j + 1; i < v.len; i = j + 1) {
			for (j = i; j < v.len && v.ptr[j] != ';'; j++)
				;
			r = span_make(v.ptr + i, j - i);
			while (r.len > 0 && is_space(r.ptr[0])) {
				r.ptr++;
				r.len--;
			}
			while (r.len > 0 && is_space(r.ptr[r.len - 1]))
				r.len--;
			if (r.len == 0)
				continue;
			assert_int_equal(buf_append_str(ar, n == 0 ? "; " :
			    ";\r\n  "), 0);
			n++;
			assert_int_equal(buf_append_span(ar, r), 0);
			if (span_startswith_case(r, "arc=")) {
				r.ptr += 4;
				r.len -= 4;
				*cv = span_startswith_case(r, "pass") ?
				    ARC_CV_PASS : span_startswith_case(r,
				    "fail") ? ARC_CV_FAIL : ARC_CV_NONE;
			}
		}
	}
}

/* text with all white space removed, for comparing folded fields */
static void
squeeze(const char *p, size_t n, struct buf *out)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!is_space(p[i]))
			assert_int_equal(buf_append_char(out, p[i]), 0);
}

/* The value of field name in the fields out produced, squeezed. */
static void
produced(struct span fields, const char *name, struct buf *out)
{
	struct span	field, fname;
	size_t		pos = 0;
	const char	*colon;

	while (dkim_header_next(fields, &pos, &field, &fname) == 1)
		if (span_caseeq(fname, name)) {
			colon = memchr(field.ptr, ':', field.len);
			squeeze(colon + 1, field.len - (size_t)(colon + 1 -
			    field.ptr), out);
			return;
		}
}

static void
check_field(const char *test, struct span fields, const char *name,
    const char *want, size_t *bad)
{
	struct buf	a, b;

	buf_init(&a, MSG_MAX);
	buf_init(&b, MSG_MAX);
	produced(fields, name, &a);
	squeeze(want, strlen(want), &b);
	if (a.len != b.len || (a.len > 0 && memcmp(a.data, b.data,
	    a.len) != 0)) {
		print_message("%s: %s differs\n  want %s\n  got  %s\n", test,
		    name, b.data != NULL ? b.data : "", a.data != NULL ?
		    a.data : "");
		(*bad)++;
	}
	buf_free(&a);
	buf_free(&b);
}

struct sstats {
	struct arc_chain *c;
	size_t		 cases, bad, sealed;
};

static void
sign_case(yaml_document_t *doc, yaml_node_t *root, const char *name,
    yaml_node_t *test, void *arg)
{
	struct sstats		*st = arg;
	struct arc_seal_args	 a = { 0 };
	struct buf		 msg, ar, out;
	struct span		 hdrs, body;
	unsigned char		 digest[DKIM_DIGEST_MAX];
	const char		*message, *t, *pem, *err;
	BIO			*bio;
	EVP_PKEY		*key;

	message = scalar(map_get(doc, test, "message"));
	t = scalar(map_get(doc, test, "t"));
	pem = scalar(map_get(doc, root, "privatekey"));
	a.d = scalar(map_get(doc, root, "domain"));
	a.s = scalar(map_get(doc, root, "sel"));
	a.h = scalar(map_get(doc, test, "sig-headers"));
	assert_non_null(message);
	assert_non_null(t);
	assert_non_null(pem);
	assert_non_null(a.d);
	assert_non_null(a.s);
	assert_non_null(a.h);
	bio = BIO_new_mem_buf(pem, -1);
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(key);

	buf_init(&msg, MSG_MAX);
	buf_init(&ar, MSG_MAX);
	buf_init(&out, MSG_MAX);
	to_crlf(message, &msg);
	split_message(&msg, &hdrs, &body);
	hash_body(body, DKIM_CANON_RELAXED, DKIM_BH_NOLIMIT, digest);
	arc_chain_parse(hdrs, st->c);
	sign_ar(hdrs, scalar(map_get(doc, test, "srv-id")), &ar, &a.cv);
	a.ar = span_make(ar.data, ar.len);
	a.t = strtoull(t, NULL, 10);
	a.key = key;
	a.bh = digest;
	assert_int_equal(arc_seal(hdrs, st->c, &a, &out, &err), 0);
	st->sealed += out.len > 0;
	check_field(name, span_make(out.data, out.len), "ARC-Seal",
	    scalar(map_get(doc, test, "AS")), &st->bad);
	check_field(name, span_make(out.data, out.len),
	    "ARC-Message-Signature", scalar(map_get(doc, test, "AMS")),
	    &st->bad);
	check_field(name, span_make(out.data, out.len),
	    "ARC-Authentication-Results", scalar(map_get(doc, test, "AAR")),
	    &st->bad);
	st->cases++;
	EVP_PKEY_free(key);
	buf_free(&msg);
	buf_free(&ar);
	buf_free(&out);
}

static void
test_sign_suite(void **state)
{
	struct sstats	st = { .c = xcalloc(1, sizeof(*st.c)) };

	(void)state;
	suite_each(SUITE "/arc-draft-sign-tests.yml", sign_case, &st);
	free(st.c);
	print_message("arc sign suite: %zu cases, %zu sealed, %zu field "
	    "mismatches\n", st.cases, st.sealed, st.bad);
	assert_int_equal(st.cases, 17);
	/* no_additional_sig: a chain whose newest seal says fail */
	assert_int_equal(st.sealed, 16);
	assert_int_equal(st.bad, 0);
}

/* --- Stalwart's chains: DNS lines, an empty line, the message (LF) --- */

struct stalwart {
	struct buf	 dns;
	EVP_PKEY	*keys[8];
	size_t		 nkeys;
	struct span	 body;
};

static EVP_PKEY *
stalwart_key(void *arg, const char *d, const char *s, bool *temp)
{
	struct stalwart	*st = arg;
	char		 owner[600];
	const char	*line = st->dns.data, *end, *err;
	size_t		 n;
	EVP_PKEY	*key;

	*temp = false;
	n = (size_t)snprintf(owner, sizeof(owner), "%s._domainkey.%s ", s, d);
	while (line != NULL && *line != '\0') {
		end = strchr(line, '\n');
		if (strncasecmp(line, owner, n) == 0) {
			key = arc_key_parse(span_make(line + n, end != NULL ?
			    (size_t)(end - line) - n : strlen(line + n)), &err);
			if (key != NULL) {
				assert_true(st->nkeys < 8);
				st->keys[st->nkeys++] = key;
			}
			return key;
		}
		line = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

static int
stalwart_bh(void *arg, enum dkim_canon canon, uint64_t limit,
    unsigned char *out)
{
	hash_body(((struct stalwart *)arg)->body, canon, limit, out);
	return 0;
}

static void
test_stalwart(void **state)
{
	/*
	 * Stalwart expects both to pass; 002's i=1 set is signed with
	 * ed25519-sha256, which RFC 8617 §4.1.2 and §4.1.3 do not allow
	 * (rsa-sha256 only), so here it fails.
	 */
	static const struct {
		const char	*file;
		enum arc_cv	 cv;
	} files[] = {
		{ "001.txt", ARC_CV_PASS },
		{ "002.txt", ARC_CV_FAIL },
	};
	struct arc_chain	*c = xcalloc(1, sizeof(*c));
	size_t			 i, n;
	char			*text, *sep;
	FILE			*fp;

	(void)state;
	text = xmalloc(MSG_MAX);
	for (i = 0; i < 2; i++) {
		struct stalwart		 st = { 0 };
		struct arc_verify_ops	 ops = { stalwart_bh, stalwart_key,
					    &st };
		struct buf		 msg;
		struct span		 hdrs;
		char			 rel[128];

		(void)snprintf(rel, sizeof(rel), STALWART "/%s", files[i].file);
		assert_non_null(fp = fopen(path_of(rel), "r"));
		n = fread(text, 1, MSG_MAX - 1, fp);
		(void)fclose(fp);
		text[n] = '\0';
		assert_non_null(sep = strstr(text, "\n\n"));
		*sep = '\0';
		buf_init(&st.dns, MSG_MAX);
		assert_int_equal(buf_append_str(&st.dns, text), 0);
		buf_init(&msg, MSG_MAX);
		to_crlf(sep + 2, &msg);
		split_message(&msg, &hdrs, &st.body);
		arc_chain_parse(hdrs, c);
		assert_true(c->n >= 1);
		arc_chain_verify(c, hdrs, &ops);
		print_message("%s: %s (%s)\n", files[i].file,
		    cv_name(c->result), c->reason);
		assert_int_equal(c->result, files[i].cv);
		while (st.nkeys > 0)
			EVP_PKEY_free(st.keys[--st.nkeys]);
		buf_free(&st.dns);
		buf_free(&msg);
	}
	free(text);
	free(c);
}

/* --- our own seal verifies, and a changed byte breaks it --- */

static void
test_seal_roundtrip(void **state)
{
	static const char hdrs_text[] =
	    "From: a@example.org\r\nTo: b@example.net\r\n"
	    "Subject: hi\r\nDate: Thu, 14 Jan 2015 15:00:01 -0800\r\n";
	static const char body_text[] = "hello\r\n";
	struct arc_chain	*c = xcalloc(1, sizeof(*c));
	struct arc_seal_args	 a = { 0 };
	struct buf		 out, all, txt;
	unsigned char		 digest[DKIM_DIGEST_MAX], der[1024];
	unsigned char		*dp = der;
	char			 b64[2048];
	EVP_PKEY		*key;
	yaml_document_t		 doc;
	yaml_node_t		*map;
	const char		*err;
	int			 derlen, k, v;
	struct fake		 f;
	struct arc_verify_ops	 ops = { fake_bh, fake_key, &f };

	(void)state;
	key = EVP_RSA_gen(2048);
	assert_non_null(key);
	hash_body(span_str(body_text), DKIM_CANON_RELAXED, DKIM_BH_NOLIMIT,
	    digest);

	arc_chain_parse(span_str(hdrs_text), c);
	assert_int_equal(c->result, ARC_CV_NONE);
	/* as it sits in the prepended fields: folded, its CRLF after it */
	a.ar = span_str(" mx.example.org; arc=none;\r\n\tspf=pass "
	    "smtp.mailfrom=a@example.org\r\n");
	a.cv = ARC_CV_NONE;
	a.d = "example.org";
	a.s = "sel";
	a.h = "from:to:subject:date";
	a.t = 1700000000;
	a.key = key;
	a.bh = digest;
	buf_init(&out, MSG_MAX);
	assert_int_equal(arc_seal(span_str(hdrs_text), c, &a, &out, &err), 0);
	/* dkimpy finds an instance's AMS by the text " i=1;" in it */
	assert_non_null(memmem(out.data, out.len, " i=1;", 5));
	/* three fields, each ending in one CRLF: no empty line */
	assert_null(memmem(out.data, out.len, "\r\n\r\n", 4));
	assert_memory_equal(out.data + out.len - 2, "\r\n", 2);
	{
		struct buf	 bad;
		const char	*e2;

		/* an A-R with a line break that does not fold is refused */
		buf_init(&bad, MSG_MAX);
		a.ar = span_str("mx.example.org; arc=none\r\nX: y");
		assert_int_equal(arc_seal(span_str(hdrs_text), c, &a, &bad,
		    &e2), -1);
		assert_int_equal(bad.len, 0);
		buf_free(&bad);
		a.ar = span_str(" mx.example.org; arc=none;\r\n\tspf=pass "
		    "smtp.mailfrom=a@example.org\r\n");
	}

	/* the key as a DNS record in a one-entry YAML map */
	derlen = i2d_PUBKEY(key, &dp);
	assert_true(derlen > 0);
	buf_init(&txt, MSG_MAX);
	(void)sasl_b64_encode(der, (size_t)derlen, b64);
	assert_int_equal(buf_printf(&txt, "v=DKIM1; k=rsa; p=%s", b64), 0);
	assert_int_equal(yaml_document_initialize(&doc, NULL, NULL, NULL, 1,
	    1), 1);
	map = NULL;
	k = yaml_document_add_scalar(&doc, NULL,
	    (yaml_char_t *)"sel._domainkey.example.org", -1,
	    YAML_PLAIN_SCALAR_STYLE);
	v = yaml_document_add_scalar(&doc, NULL, (yaml_char_t *)txt.data,
	    (int)txt.len, YAML_PLAIN_SCALAR_STYLE);
	{
		int	m = yaml_document_add_mapping(&doc, NULL,
			    YAML_BLOCK_MAPPING_STYLE);

		assert_int_equal(yaml_document_append_mapping_pair(&doc, m, k,
		    v), 1);
		map = yaml_document_get_node(&doc, m);
	}

	buf_init(&all, MSG_MAX);
	assert_int_equal(buf_append(&all, out.data, out.len), 0);
	assert_int_equal(buf_append_str(&all, hdrs_text), 0);
	memset(&f, 0, sizeof(f));
	f.doc = &doc;
	f.txt = map;
	f.body = span_str(body_text);
	arc_chain_parse(span_make(all.data, all.len), c);
	assert_int_equal(c->result, ARC_CV_PASS);
	assert_int_equal(c->n, 1);
	arc_chain_verify(c, span_make(all.data, all.len), &ops);
	assert_int_equal(c->result, ARC_CV_PASS);
	fake_free(&f);

	/* a changed Subject breaks the AMS */
	{
		char	*s = memmem(all.data, all.len, "Subject: hi", 11);

		assert_non_null(s);
		s[10] = 'o';
	}
	arc_chain_parse(span_make(all.data, all.len), c);
	arc_chain_verify(c, span_make(all.data, all.len), &ops);
	assert_int_equal(c->result, ARC_CV_FAIL);
	fake_free(&f);

	yaml_document_delete(&doc);
	EVP_PKEY_free(key);
	buf_free(&out);
	buf_free(&all);
	buf_free(&txt);
	free(c);
}

/* --- bounds --- */

static void
test_bounds(void **state)
{
	struct arc_chain	*c = xcalloc(1, sizeof(*c));
	struct buf		 h;
	const char		*err;
	unsigned		 i;

	(void)state;
	/* i=51 is out of range (§4.2.1) */
	arc_chain_parse(span_str("ARC-Authentication-Results: i=51; x; "
	    "spf=pass\r\n"), c);
	assert_int_equal(c->result, ARC_CV_FAIL);
	/* a 151st ARC field cannot be part of a chain */
	buf_init(&h, MSG_MAX);
	for (i = 0; i < 3 * ARC_INSTANCE_MAX + 1; i++)
		assert_int_equal(buf_printf(&h, "ARC-Authentication-Results: "
		    "i=%u; x; none\r\n", i % ARC_INSTANCE_MAX + 1), 0);
	arc_chain_parse(span_make(h.data, h.len), c);
	assert_int_equal(c->result, ARC_CV_FAIL);
	buf_free(&h);
	/* key records that are not usable */
	assert_null(arc_key_parse(span_str("v=DKIM1; k=rsa; p="), &err));
	assert_string_equal(err, "key revoked");
	assert_null(arc_key_parse(span_str("v=DKIM1; k=ed25519; p=AAAA"),
	    &err));
	assert_null(arc_key_parse(span_str("k=rsa; v=DKIM1; p=AAAA"), &err));
	assert_null(arc_key_parse(span_str("v=DKIM1; k=rsa; omg"), &err));
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validation_suite),
		cmocka_unit_test(test_sign_suite),
		cmocka_unit_test(test_stalwart),
		cmocka_unit_test(test_seal_roundtrip),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
