/*
 * psl: the Public Suffix List (https://publicsuffix.org/list/), for the
 * organisational domain of DMARC (RFC 7489 §3.2).  The lookup role loads
 * the file once at its start, before it drops privileges (Debian's
 * publicsuffix package: /usr/share/publicsuffix/public_suffix_list.dat,
 * or `public-suffix-list FILE`), and asks it for every message.
 *
 * The file is trusted as configuration but parsed with bounds (lines,
 * rules, labels), so a damaged file costs a log line, not the role; the
 * names asked about come from messages and are hostile.
 *
 * Rules are plain ("com.au"), wildcards ("*.ck") and exceptions
 * ("!www.ck"), each in the ICANN or the PRIVATE section of the file
 * (its "===BEGIN ICANN DOMAINS===" and "===BEGIN PRIVATE DOMAINS==="
 * markers); the algorithm is the list's own ("Formal algorithm" on
 * publicsuffix.org): an exception wins, else the matching rule with the
 * most labels, else the implicit rule "*".  Names in the file may be
 * IDNA U-labels in UTF-8: each rule is kept in its A-label form
 * (Punycode, RFC 3492) and a name asked about is turned into A-labels
 * too, so both "食狮.公司.cn" and "xn--85x722f.xn--55qx5d.cn" match.
 * Letters are compared without case (ASCII only: no Unicode case
 * mapping, as the list is written in lower case).
 */
#ifndef CACHET_PSL_H
#define CACHET_PSL_H

#include <stdbool.h>
#include <stddef.h>

#define PSL_FILE_DEFAULT	"/usr/share/publicsuffix/public_suffix_list.dat"
#define PSL_FILE_MAX		(16 * 1024 * 1024)	/* today ~250 KiB */
#define PSL_RULES_MAX		200000		/* today ~10000 */
#define PSL_LINE_MAX		1024		/* a rule line */
#define PSL_NAME_MAX		253		/* RFC 1035 §2.3.4 */
#define PSL_LABELS_MAX		127

/* The sections of the file a lookup uses. */
#define PSL_ICANN		0x1u
#define PSL_PRIVATE		0x2u
#define PSL_ALL			(PSL_ICANN | PSL_PRIVATE)

struct psl;

/* An empty list: only the implicit rule "*". */
struct psl	*psl_new(void);
void		 psl_free(struct psl *);

/*
 * Add the rules of a list's text buf[0..len) (the file's format: one
 * rule per line, "//" comments, the section markers; a rule ends at the
 * first white space).  A line that is not a rule (too long, an empty
 * label, a '*' not alone in its label, an invalid UTF-8 name) is
 * skipped and counted in *skipped_out (may be NULL).  -1 with *errstr
 * when over PSL_RULES_MAX (the rules before stay).
 */
int		 psl_parse(struct psl *, const char *buf, size_t len,
		    size_t *skipped_out, const char **errstr);

/* Read and parse the file at path (at most PSL_FILE_MAX). */
int		 psl_load(struct psl *, const char *path,
		    size_t *skipped_out, const char **errstr);

/* Rules held. */
size_t		 psl_count(const struct psl *);

/*
 * The A-label form of name[0..len) (a trailing dot dropped), lower-cased,
 * into out (outsz octets): each label holding octets over 0x7f is UTF-8
 * turned into "xn--" + Punycode.  0, or -1 when the name is empty, has an
 * empty label, invalid UTF-8, or does not fit (PSL_NAME_MAX).
 */
int		 psl_alabel(const char *name, size_t len, char *out,
		    size_t outsz);

/*
 * The number of labels of name's public suffix under the rules of the
 * given sections (PSL_ICANN, PSL_PRIVATE), at least 1 (the implicit
 * "*"); 0 when name is not a valid name (psl_alabel).
 */
size_t		 psl_suffix_labels(const struct psl *, const char *name,
		    size_t len, unsigned sections);

/*
 * The organisational domain of name[0..len) (RFC 7489 §3.2): its public
 * suffix plus one label.  *out points into name (its last labels, in
 * the form given; a trailing dot left out).  0, or -1 when name is
 * invalid or is itself a public suffix (no registrable domain).
 */
int		 psl_org_domain(const struct psl *, const char *name,
		    size_t len, unsigned sections, const char **out,
		    size_t *outlen);

#endif
