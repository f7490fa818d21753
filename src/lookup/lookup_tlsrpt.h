/*
 * lookup_tlsrpt: SMTP TLS Reporting (RFC 8460) in the lookup role.  The
 * mta tells us the result of each outbound TLS session attempt
 * (MSG_LOOKUP_TLSRPT, layout in mta/mta_tlsrpt.h); we count them per UTC
 * day, policy domain and policy (type, policy-string, mx-host), with the
 * failure details, in SQLite under our directory (tlsrpt.db, each result
 * one transaction, so a crash loses at most the result being written),
 * build the §4.4 reports from the counts (tlsrpt.c), send them and keep a
 * summary of the reports other servers send us.
 *
 * Trust: the mta is a sibling; its message is checked for shape and
 * size, and a malformed one is fatal.  cachetctl's arguments come through
 * the parent, bounded.
 *
 * cachetctl: "tlsrpt show [DOMAIN]" prints the reports that would be
 * sent now (every day recorded, today included), "tlsrpt received" the
 * reports received, per organisation and day.
 */
#ifndef CACHET_LOOKUP_TLSRPT_H
#define CACHET_LOOKUP_TLSRPT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "ipc.h"
#include "proc.h"
#include "tlsrpt.h"

#define LOOKUP_TLSRPT_DB	"tlsrpt.db"	/* in lookup's directory */
/* failure-details rows kept per day and policy; more are only counted */
#define LOOKUP_TLSRPT_DETAILS_MAX	100
/* policies of one domain and day in a report */
#define LOOKUP_TLSRPT_POLICIES_MAX	64
#define LOOKUP_TLSRPT_STR_MAX	4096	/* policy-string, mx-host */
#define LOOKUP_TLSRPT_RECEIVED_MAX	10000	/* reports received kept */

struct lookup_tlsrpt;
struct dns;

/*
 * Open (create) tlsrpt.db in the current directory (after proc_drop).
 * A database that cannot be opened is logged; results are then dropped.
 * Never NULL.
 */
struct lookup_tlsrpt	*lookup_tlsrpt_new(struct proc_self *,
			    const struct conf *, struct dns *);

/* MSG_LOOKUP_TLSRPT from the mta. */
void	lookup_tlsrpt_record(struct lookup_tlsrpt *, enum proc_id from,
	    struct msg *m);

/*
 * A delivered message data[0..len) the mda offered (MSG_LOOKUP_TLSRPT_MAIL,
 * read by lookup.c) that may be a report for one of our domains: its
 * report extracted and parsed (tlsrpt.c, hostile input) and its summary
 * kept once per organisation and report-id.  -1 when it carries no
 * TLS-RPT report (the DMARC reader's turn); 0 otherwise (a report that
 * does not parse is logged and dropped).
 */
int	lookup_tlsrpt_mail(struct lookup_tlsrpt *, const char *data,
	    size_t len);

/* Reports mailed out are signed by ls first (lookup_dkimsign.h). */
struct lookup_dkimsign;
void	lookup_tlsrpt_set_signer(struct lookup_tlsrpt *,
	    struct lookup_dkimsign *);

/*
 * A cachetctl request whose argv[0] is "tlsrpt"; the answer (lines, then
 * the end) is sent with proc_ctl_line()/proc_ctl_end().
 */
/*
 * MSG_LOOKUP_TLSRPT_RUA from the mta (`cachetctl tls-policy`): the
 * domain's _smtp._tls record asked now and its rua URIs answered,
 * comma-separated, or "none: WHY".
 */
void	lookup_tlsrpt_rua(struct lookup_tlsrpt *, enum proc_id from,
	    struct msg *);

void	lookup_tlsrpt_ctl(struct lookup_tlsrpt *, uint64_t reqid,
	    size_t argc, char **argv);

#endif
