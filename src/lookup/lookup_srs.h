/*
 * lookup_srs: the Sender Rewriting Scheme (lib/srs.h) in the lookup
 * role, which alone holds its secrets.  Two uses:
 *
 *   - the queue resolves a recipient (MSG_LOOKUP_RESOLVE) and an alias
 *     of ours sends it to another domain: that copy's reverse-path
 *     becomes an SRS address at the alias's domain (or srs-domain);
 *   - a recipient SRS0=...@ or SRS1=...@ one of our domains (a bounce to
 *     such a reverse-path) is decoded, at RCPT and again at resolution,
 *     and goes to the address it names.
 *
 * The secrets: the file srs-secret in lookup's directory, mode 0600,
 * read when lookup starts and made then if missing (32 random bytes as
 * 64 hex digits).  One secret a line (its bytes as written, 1 to 256;
 * empty lines and lines starting '#' are skipped), at most 8; the first
 * signs, every one verifies, so that a new secret goes first and the
 * old one stays a line below for srs-max-age days.
 */
#ifndef CACHET_LOOKUP_SRS_H
#define CACHET_LOOKUP_SRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "srs.h"

#define LOOKUP_SRS_FILE		"srs-secret"	/* relative: lookup's dir */

struct conf;
struct lookup_srs;

/*
 * Read (or make) the secrets in the current directory.  Never NULL: when
 * the file cannot be read or made the failure is logged and SRS is off
 * (no rewriting; SRS recipients refused), the rest of lookup works.
 */
struct lookup_srs	*lookup_srs_new(const struct conf *);
void			 lookup_srs_free(struct lookup_srs *);

/* SRS on and secrets loaded. */
bool	lookup_srs_enabled(const struct lookup_srs *);

/*
 * The reverse-path for a copy that the alias rcpt (an address of ours,
 * "local@domain") forwards to another domain, now: the SRS rewrite of
 * sender at srs-domain or rcpt's domain, in out (SRS_ADDR_MAX + 1
 * bytes).  0 rewritten; -1 when it is not (SRS off, the null sender, a
 * rewrite longer than a local part may be: the copy keeps the envelope's
 * sender, and the reason is logged), out then "".
 */
int	lookup_srs_forward(struct lookup_srs *, const char *sender,
	    const char *rcpt, int64_t now, char *out, size_t outsz);

/*
 * The address that the recipient rcpt[0..len) (at one of our domains)
 * stands for, if it is an SRS address: 0 with it in out; -1 with
 * *err_out (SRS_ENOTSRS: not an SRS address, or SRS off; the others:
 * an SRS address that does not verify, to refuse).
 */
int	lookup_srs_reverse(struct lookup_srs *, const char *rcpt, size_t len,
	    int64_t now, char *out, size_t outsz, enum srs_error *err_out);

#endif
