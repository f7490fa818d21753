/*
 * mimedump: print cachet's parse of one message as JSON, for the corpus
 * tests (tests/blackbox/test_mime_corpus.py, test_mime_dovecot.py).
 *
 *	mimedump [--crlf | --lf] FILE
 *
 * --crlf makes every bare LF of the file CRLF before the parse, --lf
 * every CRLF a bare LF (the two forms Stalwart's corpus has expected
 * parses for).  Output:
 * the flags, every part (tree links, offsets, bare LF and line counts,
 * kind, content type and parameters, disposition, transfer encoding, its
 * header fields raw and decoded, its decoded body), mime_text()'s text
 * and links, and for every message header (part 0 and the children of
 * message/rfc822 parts) its ENVELOPE, and the message's BODY and
 * BODYSTRUCTURE.  Strings of message bytes (raw values, bodies, IMAP
 * output) are given byte for byte as code points U+0000..U+00FF (read
 * them back with .encode("latin-1")); decoded text is UTF-8 as it is.
 * A test tool: it trusts its argument, not the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "imap/imap_struct.h"
#include "mime.h"
#include "mime_decode.h"
#include "mime_hdr.h"

#define DUMP_FILE_MAX	(256UL * 1024 * 1024)
#define DUMP_OUT_MAX	(1024UL * 1024 * 1024)

static const struct {
	unsigned	 flag;
	const char	*name;
} dump_flags[] = {
	{ MIME_F_DEPTH, "depth" },
	{ MIME_F_PARTS, "parts" },
	{ MIME_F_FIELDS, "fields" },
	{ MIME_F_NO_BOUNDARY, "no_boundary" },
	{ MIME_F_BOUNDARY_UNSEEN, "boundary_unseen" },
	{ MIME_F_UNTERMINATED, "unterminated" },
	{ MIME_F_HDR_8BIT, "hdr_8bit" },
	{ MIME_F_HDR_NUL, "hdr_nul" },
	{ MIME_F_HDR_BAD, "hdr_bad" },
	{ MIME_F_HDR_UNTERM, "hdr_unterm" },
	{ MIME_F_BODY_NUL, "body_nul" },
};

static const char *const dump_ctes[] = {
	[MIME_CTE_7BIT] = "7bit", [MIME_CTE_8BIT] = "8bit",
	[MIME_CTE_BINARY] = "binary", [MIME_CTE_QP] = "quoted-printable",
	[MIME_CTE_BASE64] = "base64", [MIME_CTE_OTHER] = "other",
};

static void
die(const char *what)
{
	fprintf(stderr, "mimedump: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Bytes as latin-1 code points: a JSON string that keeps every byte. */
static json_t *
jbytes(const char *p, size_t len)
{
	json_t	*j;
	char	*u;
	size_t	 i, n = 0;

	if ((u = malloc(len * 2 + 1)) == NULL)
		die("malloc");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x80)
			u[n++] = (char)c;
		else {
			u[n++] = (char)(0xc0 | (c >> 6));
			u[n++] = (char)(0x80 | (c & 0x3f));
		}
	}
	j = json_stringn(u, n);
	free(u);
	if (j == NULL)
		die("json");
	return j;
}

static json_t *
jspan(struct span s)
{
	return jbytes(s.ptr, s.len);
}

/* Decoded text: UTF-8 by contract; checked, so that a decoder's bug
 * shows as a test failure and not as a crash of jansson. */
static json_t *
jtext(const struct buf *b)
{
	if (!mime_utf8_valid(span_make(b->data, b->len))) {
		json_t	*o = json_object();

		json_object_set_new(o, "invalid_utf8",
		    jbytes(b->data, b->len));
		return o;
	}
	return json_stringn(b->len ? b->data : "", b->len);
}

static json_t *
jctype(const struct mime_ctype *ct, int rc)
{
	json_t	*o = json_object(), *ps = json_array(), *p;
	size_t	 i;

	json_object_set_new(o, "ok", json_boolean(rc == 0));
	json_object_set_new(o, "type", jspan(ct->type));
	json_object_set_new(o, "subtype", jspan(ct->subtype));
	for (i = 0; i < ct->nparams; i++) {
		p = json_object();
		json_object_set_new(p, "name", jspan(ct->params[i].name));
		json_object_set_new(p, "value", jspan(ct->params[i].value));
		json_object_set_new(p, "imap_name",
		    jspan(ct->params[i].imap_name));
		json_object_set_new(p, "imap_value",
		    jspan(ct->params[i].imap_value));
		json_array_append_new(ps, p);
	}
	json_object_set_new(o, "params", ps);
	return o;
}

static json_t *
jwords(struct span v)
{
	struct buf	b;
	json_t		*j;

	buf_init(&b, DUMP_OUT_MAX);
	if (mime_decode_words(v, &b) == -1)
		die("mime_decode_words");
	j = jtext(&b);
	buf_free(&b);
	return j;
}

static json_t *
jaddrs(struct span v)
{
	struct mime_addrlist	 al;
	json_t			*arr = json_array(), *a;
	size_t			 i;
	static const char *const kinds[] = { "mailbox", "group",
	    "group_end" };

	memset(&al, 0, sizeof(al));
	(void)mime_hdr_addrs(v, &al);
	for (i = 0; i < al.n; i++) {
		a = json_object();
		json_object_set_new(a, "kind",
		    json_string(kinds[al.v[i].kind]));
		json_object_set_new(a, "name", jspan(al.v[i].name));
		json_object_set_new(a, "name_decoded", jwords(al.v[i].name));
		json_object_set_new(a, "route", jspan(al.v[i].route));
		json_object_set_new(a, "local", jspan(al.v[i].local));
		json_object_set_new(a, "domain", jspan(al.v[i].domain));
		json_array_append_new(arr, a);
	}
	mime_addrlist_free(&al);
	return arr;
}

static json_t *
jfield(const struct mime_msg *msg, const struct mime_field *f)
{
	json_t			*o = json_object(), *ids;
	struct span		 name, v;
	struct mime_ctype	 ct;
	struct mime_msgids	 mi;
	int64_t			 t;
	int			 zone;
	size_t			 i;

	name = mime_field_name(msg, f);
	v = mime_field_value(msg, f);
	json_object_set_new(o, "name", jspan(name));
	json_object_set_new(o, "name_off", json_integer((json_int_t)f->name_off));
	json_object_set_new(o, "value_off",
	    json_integer((json_int_t)f->value_off));
	json_object_set_new(o, "value_end",
	    json_integer((json_int_t)f->value_end));
	json_object_set_new(o, "end", json_integer((json_int_t)f->end));
	json_object_set_new(o, "raw", jspan(v));
	json_object_set_new(o, "text", jwords(v));
	if (span_caseeq(name, "From") || span_caseeq(name, "To") ||
	    span_caseeq(name, "Cc") || span_caseeq(name, "Bcc") ||
	    span_caseeq(name, "Sender") || span_caseeq(name, "Reply-To") ||
	    span_caseeq(name, "Resent-From") || span_caseeq(name, "Resent-To"))
		json_object_set_new(o, "addrs", jaddrs(v));
	if (span_caseeq(name, "Date") || span_caseeq(name, "Resent-Date")) {
		if (mime_hdr_date(v, &t, &zone) == 0) {
			json_object_set_new(o, "time", json_integer(t));
			json_object_set_new(o, "zone", json_integer(zone));
		} else
			json_object_set_new(o, "time", json_null());
	}
	if (span_caseeq(name, "Message-ID") ||
	    span_caseeq(name, "In-Reply-To") ||
	    span_caseeq(name, "References")) {
		memset(&mi, 0, sizeof(mi));
		(void)mime_hdr_msgids(v, &mi);
		ids = json_array();
		for (i = 0; i < mi.n; i++)
			json_array_append_new(ids, jspan(mi.v[i]));
		json_object_set_new(o, "ids", ids);
		mime_msgids_free(&mi);
	}
	if (span_caseeq(name, "Content-Type") ||
	    span_caseeq(name, "Content-Disposition")) {
		int	rc;

		memset(&ct, 0, sizeof(ct));
		rc = span_caseeq(name, "Content-Type") ?
		    mime_hdr_ctype(v, &ct) : mime_hdr_disposition(v, &ct);
		json_object_set_new(o, "ctype", jctype(&ct, rc));
		mime_ctype_free(&ct);
	}
	return o;
}

static json_t *
jpart(const struct mime_msg *msg, uint32_t i)
{
	static const char *const kinds[] = { "leaf", "multipart", "message" };
	const struct mime_part	*p = &msg->parts[i];
	const struct mime_field	*f;
	const struct mime_param	*cs;
	struct mime_ctype	 ct;
	json_t			*o = json_object(), *fs = json_array();
	struct buf		 dec, txt;
	uint32_t		 k;
	int			 rc;

#define SETI(k, v) json_object_set_new(o, k, json_integer((json_int_t)(v)))
	SETI("index", i);
	SETI("parent", p->parent == MIME_NONE ? -1 : (json_int_t)p->parent);
	SETI("depth", p->depth);
	SETI("nchildren", p->nchildren);
	SETI("hdr_start", p->hdr_start);
	SETI("body_start", p->body_start);
	SETI("end", p->end);
	SETI("hdr_bare_lf", p->hdr_bare_lf);
	SETI("body_bare_lf", p->body_bare_lf);
	SETI("body_lines", p->body_lines);
#undef SETI
	json_object_set_new(o, "kind", json_string(kinds[p->kind]));
	json_object_set_new(o, "cte", json_string(dump_ctes[p->cte]));
	json_object_set_new(o, "type", jspan(p->type));
	json_object_set_new(o, "subtype", jspan(p->subtype));
	json_object_set_new(o, "ctype_default",
	    json_boolean(p->ctype_default));
	if (p->kind == MIME_KIND_MULTIPART)
		json_object_set_new(o, "boundary", jspan(p->boundary));
	for (k = 0; k < p->nfields; k++)
		json_array_append_new(fs,
		    jfield(msg, &msg->fields[p->field_first + k]));
	json_object_set_new(o, "fields", fs);
	if (p->kind != MIME_KIND_LEAF)
		return o;

	buf_init(&dec, DUMP_OUT_MAX);
	if (mime_decode_body(p->cte, mime_part_body(msg, i), &dec) == -1)
		die("mime_decode_body");
	json_object_set_new(o, "decoded", jbytes(dec.data, dec.len));
	if (span_caseeq(p->type, "text")) {
		memset(&ct, 0, sizeof(ct));
		f = mime_part_field(msg, i, "Content-Type", NULL);
		cs = NULL;
		if (f != NULL && mime_hdr_ctype(mime_field_value(msg, f),
		    &ct) == 0)
			cs = mime_ctype_param(&ct, "charset");
		buf_init(&txt, DUMP_OUT_MAX);
		rc = mime_charset_to_utf8(cs != NULL ? cs->value :
		    span_make("", 0), span_make(dec.data, dec.len), &txt);
		if (rc == -1)
			die("mime_charset_to_utf8");
		json_object_set_new(o, "charset_known", json_boolean(rc == 0));
		if (rc == 0)
			json_object_set_new(o, "text", jtext(&txt));
		buf_free(&txt);
		mime_ctype_free(&ct);
	}
	buf_free(&dec);
	return o;
}

static json_t *
jimap(const struct mime_msg *msg, int (*fn)(struct buf *,
    const struct mime_msg *, uint32_t), uint32_t part)
{
	struct buf	b;
	json_t		*j;

	buf_init(&b, DUMP_OUT_MAX);
	if (fn(&b, msg, part) == -1)
		die("imap_struct");
	j = jbytes(b.data, b.len);
	buf_free(&b);
	return j;
}

static int
body_plain(struct buf *b, const struct mime_msg *msg, uint32_t part)
{
	return imap_struct_bodystructure(b, msg, part, false);
}

static int
body_ext(struct buf *b, const struct mime_msg *msg, uint32_t part)
{
	return imap_struct_bodystructure(b, msg, part, true);
}

static char *
read_file(const char *path, int form, size_t *len_out)
{
	FILE	*fp;
	char	*data, *out;
	size_t	 len = 0, cap = 65536, n, i, o;

	if ((fp = fopen(path, "rb")) == NULL)
		die(path);
	if ((data = malloc(cap)) == NULL)
		die("malloc");
	while ((n = fread(data + len, 1, cap - len, fp)) > 0) {
		len += n;
		if (len == cap) {
			if (cap >= DUMP_FILE_MAX) {
				errno = EFBIG;
				die(path);
			}
			cap *= 2;
			if ((data = realloc(data, cap)) == NULL)
				die("realloc");
		}
	}
	if (ferror(fp))
		die(path);
	fclose(fp);
	if (form == 0) {
		*len_out = len;
		return data;
	}
	if ((out = malloc(len * 2 + 1)) == NULL)
		die("malloc");
	for (i = o = 0; i < len; i++) {
		if (form == 'c' && data[i] == '\n' &&
		    (i == 0 || data[i - 1] != '\r'))
			out[o++] = '\r';
		if (form == 'l' && data[i] == '\r' && i + 1 < len &&
		    data[i + 1] == '\n')
			continue;
		out[o++] = data[i];
	}
	free(data);
	*len_out = o;
	return out;
}

int
main(int argc, char **argv)
{
	struct mime_msg	 msg;
	json_t		*root, *parts, *envs, *flags, *env;
	struct buf	 text, links;
	const char	*err;
	char		*data;
	size_t		 len, i;
	uint32_t	 k;
	int		 a = 1, form = 0;

	if (argc > 1 && strcmp(argv[1], "--crlf") == 0) {
		form = 'c';
		a++;
	} else if (argc > 1 && strcmp(argv[1], "--lf") == 0) {
		form = 'l';
		a++;
	}
	if (argc != a + 1) {
		fprintf(stderr, "usage: mimedump [--crlf | --lf] FILE\n");
		return 2;
	}
	data = read_file(argv[a], form, &len);
	memset(&msg, 0, sizeof(msg));
	mime_parse(&msg, data, len);

	root = json_object();
	json_object_set_new(root, "len", json_integer((json_int_t)len));
	flags = json_array();
	for (i = 0; i < sizeof(dump_flags) / sizeof(dump_flags[0]); i++)
		if (msg.flags & dump_flags[i].flag)
			json_array_append_new(flags,
			    json_string(dump_flags[i].name));
	json_object_set_new(root, "flags", flags);
	err = mime_strerror(&msg);
	json_object_set_new(root, "error", err ? json_string(err) :
	    json_null());
	parts = json_array();
	envs = json_object();
	for (k = 0; k < msg.nparts; k++) {
		json_array_append_new(parts, jpart(&msg, k));
		if (k == 0 || msg.parts[msg.parts[k].parent].kind ==
		    MIME_KIND_MESSAGE) {
			char	key[16];

			snprintf(key, sizeof(key), "%u", k);
			env = jimap(&msg, imap_struct_envelope, k);
			json_object_set_new(envs, key, env);
		}
	}
	json_object_set_new(root, "parts", parts);
	json_object_set_new(root, "envelopes", envs);
	json_object_set_new(root, "envelope",
	    jimap(&msg, imap_struct_envelope, 0));
	json_object_set_new(root, "body", jimap(&msg, body_plain, 0));
	json_object_set_new(root, "bodystructure", jimap(&msg, body_ext, 0));

	buf_init(&text, DUMP_OUT_MAX);
	buf_init(&links, DUMP_OUT_MAX);
	if (mime_text(&msg, &text, &links) == -1)
		die("mime_text");
	json_object_set_new(root, "text", jtext(&text));
	json_object_set_new(root, "links", jtext(&links));
	buf_free(&text);
	buf_free(&links);

	if (json_dumpf(root, stdout, JSON_COMPACT) == -1 ||
	    fflush(stdout) == EOF)
		die("stdout");
	json_decref(root);
	mime_msg_free(&msg);
	free(data);
	return 0;
}
