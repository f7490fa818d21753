/*
 * libFuzzer target for mime.c: the input is a message, parsed from a
 * heap copy of exactly its length (a read past len trips ASan).  Then
 * every part's Content-Type and Content-Disposition go through the
 * parameter parser, and mime_text() decodes the whole message.  The
 * tree's invariants are checked on the way; one that breaks calls
 * abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "mime_hdr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_part(const struct mime_msg *m, uint32_t i)
{
	const struct mime_part	*p = &m->parts[i], *c;
	uint32_t		 k, n = 0;

	if (p->hdr_start > p->body_start || p->body_start > p->end ||
	    p->end > m->len || p->depth > MIME_DEPTH_MAX)
		abort();
	if ((uint64_t)p->body_lines > p->end - p->body_start ||
	    p->body_bare_lf > p->body_lines)
		abort();
	if ((size_t)p->field_first + p->nfields > m->nfields)
		abort();
	for (k = p->first_child; k != MIME_NONE; k = c->next) {
		c = &m->parts[k];
		if (k <= i || c->parent != i || c->hdr_start < p->body_start ||
		    c->end > p->end)
			abort();
		n++;
	}
	if (n != p->nchildren)
		abort();
}

static void
fields(const struct mime_msg *m, uint32_t i, const char *name, bool ctype)
{
	const struct mime_field	*f = NULL;
	struct mime_ctype	 ct;
	size_t			 k;

	memset(&ct, 0, sizeof(ct));
	while ((f = mime_part_field(m, i, name, f)) != NULL) {
		if (ctype)
			(void)mime_hdr_ctype(mime_field_value(m, f), &ct);
		else
			(void)mime_hdr_disposition(mime_field_value(m, f),
			    &ct);
		if (ct.nparams > MIME_PARAMS_MAX)
			abort();
		for (k = 0; k < ct.nparams; k++)
			(void)mime_ctype_param(&ct, "name");
	}
	mime_ctype_free(&ct);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_msg	 m;
	struct buf	 text, links, unf;
	char		*copy;
	uint32_t	 i;

	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	if (size > 0)
		memcpy(copy, data, size);
	memset(&m, 0, sizeof(m));
	mime_parse(&m, copy, size);
	if (m.nparts < 1 || m.nparts > MIME_PARTS_MAX ||
	    m.nfields > MIME_FIELDS_MAX)
		abort();
	buf_init(&unf, 1 << 20);
	for (i = 0; i < m.nparts; i++) {
		check_part(&m, i);
		fields(&m, i, "Content-Type", true);
		fields(&m, i, "Content-Disposition", false);
	}
	for (i = 0; i < m.nfields; i++) {
		buf_reset(&unf);
		(void)mime_unfold(mime_field_value(&m, &m.fields[i]), &unf);
	}
	buf_init(&text, 4 << 20);
	buf_init(&links, 1 << 20);
	(void)mime_text(&m, &text, &links);
	buf_free(&text);
	buf_free(&links);
	buf_free(&unf);
	mime_msg_free(&m);
	free(copy);
	return 0;
}
