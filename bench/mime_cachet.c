/*
 * mime_cachet: the cachet side of bench/mime.  Parses each message with
 * mime_parse() and decodes it fully: every leaf part's transfer encoding
 * (mime_decode_body), every text part's charset to UTF-8
 * (mime_charset_to_utf8), and the Subject of every message header
 * (mime_decode_words), round after round over the messages until
 * MEGABYTES of them went through.  Built by bench/mime against
 * build/libcachet.a (the -O2 build):
 *
 *	mime_cachet LIST-FILE MEGABYTES
 */
#include "mime.h"
#include "mime_decode.h"
#include "mime_hdr.h"
#include "mime_load.h"

int
main(int argc, char **argv)
{
	struct bench_msg	*msgs;
	struct mime_msg		 m;
	struct mime_ctype	 ct;
	const struct mime_field	*f;
	const struct mime_param	*cs;
	struct buf		 dec, txt;
	size_t			 n, i, target, done = 0, nmsg = 0, nparts = 0;
	size_t			 out = 0;
	uint32_t		 k;
	double			 t0, t1;

	if (argc != 3) {
		fprintf(stderr, "usage: mime_cachet LIST-FILE MEGABYTES\n");
		return 2;
	}
	msgs = bench_load(argv[1], &n);
	target = strtoul(argv[2], NULL, 10) * 1024 * 1024;
	memset(&m, 0, sizeof(m));
	memset(&ct, 0, sizeof(ct));
	buf_init(&dec, 1UL << 30);
	buf_init(&txt, 1UL << 30);
	t0 = bench_now();
	while (done < target && n > 0) {
		for (i = 0; i < n && done < target; i++) {
			mime_parse(&m, msgs[i].data, msgs[i].len);
			for (k = 0; k < m.nparts; k++) {
				const struct mime_part *p = &m.parts[k];

				if (k == 0 || m.parts[p->parent].kind ==
				    MIME_KIND_MESSAGE) {
					f = mime_part_field(&m, k, "Subject",
					    NULL);
					if (f != NULL) {
						buf_reset(&txt);
						(void)mime_decode_words(
						    mime_field_value(&m, f),
						    &txt);
						out += txt.len;
					}
				}
				if (p->kind != MIME_KIND_LEAF)
					continue;
				nparts++;
				buf_reset(&dec);
				(void)mime_decode_body(p->cte,
				    mime_part_body(&m, k), &dec);
				if (!span_caseeq(p->type, "text")) {
					out += dec.len;
					continue;
				}
				cs = NULL;
				f = mime_part_field(&m, k, "Content-Type",
				    NULL);
				if (f != NULL && mime_hdr_ctype(
				    mime_field_value(&m, f), &ct) == 0)
					cs = mime_ctype_param(&ct, "charset");
				buf_reset(&txt);
				(void)mime_charset_to_utf8(cs != NULL ?
				    cs->value : span_make("", 0),
				    span_make(dec.data, dec.len), &txt);
				out += txt.len;
			}
			done += msgs[i].len;
			nmsg++;
		}
	}
	t1 = bench_now();
	printf("%zu %.6f %zu %zu %zu\n", done, t1 - t0, nmsg, nparts, out);
	mime_msg_free(&m);
	mime_ctype_free(&ct);
	buf_free(&dec);
	buf_free(&txt);
	return 0;
}
