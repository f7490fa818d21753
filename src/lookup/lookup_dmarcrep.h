/*
 * lookup_dmarcrep: DMARC reports (RFC 7489 §7) in the lookup role, the
 * parts msgauth.h does not declare.  lookup_dmarcrep_record() (msgauth.h)
 * keeps a row per evaluated message in dmarc.db under lookup's
 * directory, in batches; every `dmarc-report-interval` (and on
 * `cachetctl dmarc send`) the rows become one aggregate report per
 * (policy domain, rua) mailed through the queue to each mailto: rua that
 * §7.1 allows.  Reports other servers send to our rua addresses reach us
 * through the mda's peek (MSG_LOOKUP_TLSRPT_MAIL) and are summarised.
 *
 * Trust: rows come from our own evaluation; mails from the network
 * (parsed by dmarcrep.c, bounded); cachetctl's arguments through the
 * parent, bounded.
 */
#ifndef CACHET_LOOKUP_DMARCREP_H
#define CACHET_LOOKUP_DMARCREP_H

#include <stddef.h>
#include <stdint.h>

#include "msgauth.h"

#define LOOKUP_DMARCREP_DB	"dmarc.db"	/* in lookup's directory */
/* rows written in one transaction; a kill -9 loses at most a batch */
#define LOOKUP_DMARCREP_BATCH	64
#define LOOKUP_DMARCREP_FLUSH_MS	1000	/* or after this long */
#define LOOKUP_DMARCREP_RECEIVED_MAX	10000	/* reports received kept */

/* Reports mailed out are signed by ls first (lookup_dkimsign.h). */
struct lookup_dkimsign;
void	lookup_dmarcrep_set_signer(struct lookup_dmarcrep *,
	    struct lookup_dkimsign *);

/* Flush, close dmarc.db and free; NULL is a no-op. */
void	lookup_dmarcrep_free(struct lookup_dmarcrep *);

/* Rows not yet written are written now (before a report, at exit). */
void	lookup_dmarcrep_flush(struct lookup_dmarcrep *);

/*
 * A delivered mail data[0..len) the mda offered that is not a TLS-RPT
 * report: an aggregate report (kept once per org and report id) or a
 * failure report (ARF); 0 when it was one, -1 (logged) when not.
 */
int	lookup_dmarcrep_mail(struct lookup_dmarcrep *, const char *data,
	    size_t len);

/*
 * A cachetctl request whose argv[0] is "dmarc": "dmarc send", "dmarc
 * reports [DOMAIN]"; answered with proc_ctl_line()/proc_ctl_end().
 */
void	lookup_dmarcrep_ctl(struct lookup_dmarcrep *, uint64_t reqid,
	    size_t argc, char **argv);

#endif
