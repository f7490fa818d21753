/*
 * libFuzzer target for the dovecot-uidlist reader (dovecot_uidlist.c),
 * which takes over the UIDs of a Maildir another server wrote: any bytes
 * may be there.  Accepted text must give records in strictly ascending
 * UID order below uidnext, each base name once, 1 to MAILDIR_NAME_MAX
 * bytes without '/', ':' or control bytes and not hidden, sizes that
 * agree when known; rejected text leaves nothing allocated and an error
 * string.  The records must also format as a cachet-uidlist that the
 * cachet parser accepts back when the sizes are known, as maildir_list()
 * relies on.  Input is copied to a heap block of exactly its length so
 * that a read past it trips ASan.  abort() marks a broken invariant.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dovecot_uidlist.h"
#include "maildir.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fz_check_base(const struct maildir_uidlist_rec *r)
{
	size_t	i;

	if (r->baselen == 0 || r->baselen > MAILDIR_NAME_MAX ||
	    strlen(r->base) != r->baselen || r->base[0] == '.')
		abort();
	for (i = 0; i < r->baselen; i++)
		if (r->base[i] == '/' || r->base[i] == ':' ||
		    (unsigned char)r->base[i] < 0x20 ||
		    (unsigned char)r->base[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_uidlist	 ul, back;
	struct buf		 out;
	const char		*err = NULL;
	char			*copy;
	size_t			 i, j, nbad = 0;

	copy = xmalloc(size);
	if (size > 0)
		memcpy(copy, data, size);
	if (dovecot_uidlist_parse(copy, size, &ul, &nbad, &err) == -1) {
		if (err == NULL || ul.recs != NULL || ul.text != NULL ||
		    ul.nrecs != 0)
			abort();
		free(copy);
		return 0;
	}
	if (ul.uidvalidity == 0 || ul.uidnext == 0)
		abort();
	for (i = 0; i < ul.nrecs; i++) {
		if (ul.recs[i].uid == 0 || ul.recs[i].uid >= ul.uidnext ||
		    (i > 0 && ul.recs[i].uid <= ul.recs[i - 1].uid))
			abort();
		if (ul.recs[i].size != UINT64_MAX &&
		    (ul.recs[i].size_crlf < ul.recs[i].size ||
		    ul.recs[i].size_crlf - ul.recs[i].size > ul.recs[i].size))
			abort();
		fz_check_base(&ul.recs[i]);
		/* Quadratic, but inputs are small. */
		for (j = 0; j < i && ul.nrecs < 2000; j++)
			if (ul.recs[j].baselen == ul.recs[i].baselen &&
			    memcmp(ul.recs[j].base, ul.recs[i].base,
			    ul.recs[i].baselen) == 0)
				abort();
	}
	/* With known sizes, the records are a valid cachet-uidlist. */
	for (i = 0; i < ul.nrecs; i++)
		if (ul.recs[i].size == UINT64_MAX) {
			ul.recs[i].size = 0;
			ul.recs[i].size_crlf = 0;
		}
	buf_init(&out, MAILDIR_UIDLIST_MAX);
	if (maildir_uidlist_format(&ul, &out) == -1 ||
	    maildir_uidlist_parse(out.data, out.len, &back, &err) == -1 ||
	    back.nrecs != ul.nrecs)
		abort();
	maildir_uidlist_free(&back);
	buf_free(&out);
	maildir_uidlist_free(&ul);
	free(copy);
	return 0;
}
