/*
 * libFuzzer target for the dovecot-keywords parser (maildir_kw.c), whose
 * file Dovecot, a hand edit or a damaged disk may have written.  Every
 * name kept must be a keyword we can put on the wire as an atom, the
 * canon table must point at an earlier letter of the same name, and what
 * the table formats must parse back to the same table with no line
 * dropped.  Input is copied to a heap block of exactly its length so
 * that a read past it trips ASan.  abort() marks a broken invariant.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "maildir_kw.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_kw	 kw, back;
	struct buf		 out;
	char			*copy;
	size_t			 i, nbad;

	if (size > MAILDIR_KW_FILE_MAX)
		return 0;
	copy = xmalloc(size);
	if (size > 0)
		memcpy(copy, data, size);
	nbad = maildir_kw_parse(copy, size, &kw);
	if (nbad > size)
		abort();
	for (i = 0; i < MAILDIR_KW_MAX; i++) {
		if (kw.canon[i] > i)
			abort();
		if (kw.name[i] == NULL)
			continue;
		if (!maildir_kw_name_ok(kw.name[i], strlen(kw.name[i])) ||
		    kw.name[kw.canon[i]] == NULL ||
		    strcasecmp(kw.name[kw.canon[i]], kw.name[i]) != 0 ||
		    maildir_kw_find(&kw, kw.name[i], strlen(kw.name[i])) !=
		    kw.canon[i])
			abort();
	}
	buf_init(&out, MAILDIR_KW_FILE_MAX);
	if (maildir_kw_format(&kw, &out) == -1 ||
	    maildir_kw_parse(out.data, out.len, &back) != 0 ||
	    !maildir_kw_equal(&kw, &back))
		abort();
	maildir_kw_free(&back);
	buf_free(&out);
	maildir_kw_free(&kw);
	free(copy);
	return 0;
}
