/*
 * spamrules: the rule language of the content filter (issue 15).  A
 * rules file the operator can read and extend (`spam-rules FILE`; with
 * none, the built-in default set, etc/spam.rules, compiled in) holds one
 * rule a line:
 *
 *   TYPE NAME SCORE TEST "description"
 *
 *   header  NAME SCORE FIELD[:raw|:addr|:name] =~ /re/flags  "..."
 *   header  NAME SCORE FIELD !~ /re/flags   (FIELD present, none match)
 *   header  NAME SCORE exists FIELD | !exists FIELD
 *   body    NAME SCORE /re/flags   Subject and the decoded text of every
 *                                  part (struct spam_msg: HTML as text),
 *                                  SPAM_RULES_PART_TEXT_MAX of each
 *   rawbody NAME SCORE /re/flags   text parts with the transfer encoding
 *                                  undone, HTML source as it is
 *   uri     NAME SCORE /re/flags   each link of the HTML and each URL of
 *                                  the text, one at a time
 *   keyword NAME SCORE word ...    words of Subject and text after
 *                                  spamnorm.h undid the obfuscation
 *                                  (word* a prefix, a_b two words)
 *   check   NAME SCORE FUNCTION [N]   a built-in structural test
 *   meta    NAME SCORE EXPR        rules combined with && || ! ( )
 *
 * FIELD ALL is the whole header as "Name: value" lines.  Regular
 * expressions are PCRE2 (JIT-compiled once, at load), flags i m s x.
 * Names are [A-Z0-9_]; one starting with "__" is a helper that only a
 * meta reads and that scores nothing.  Scores are points with up to
 * three decimals, within +-100.  GTUBE is built in, scores 1000 and
 * cannot be removed or redefined.  docs/spam-rules.md is the operator's
 * manual.
 *
 * Pure: no I/O but spam_rules_load() reading its file.  The file is
 * parsed with bounds (size, line length, rules, pattern lengths) and
 * every error names file:line.  A loaded set is used by one thread (it
 * holds PCRE2 match data).
 */
#ifndef CACHET_SPAMRULES_H
#define CACHET_SPAMRULES_H

#include <stddef.h>

#include "spam.h"

#define SPAM_RULES_FILE_MAX	(256 * 1024)	/* bytes of a rules file */
#define SPAM_RULES_LINE_MAX	4096		/* bytes of one line */
#define SPAM_RULES_MAX		500		/* rules of one file */
#define SPAM_RULES_PATTERN_MAX	2048		/* bytes of one pattern */
#define SPAM_RULES_SCORE_MAX	(100 * SPAM_MILLI)
#define SPAM_RULES_GTUBE_SCORE	(1000 * SPAM_MILLI)
/*
 * Bytes of each text part's text (decoded, HTML as text) that body,
 * keyword and uri rules and the checks on the text read, as
 * SpamAssassin's body_part_scan_size (its default): what spam says it
 * says early, and every body rule reads the text again.  rawbody rules
 * read the whole part, as SpamAssassin's rawbody_part_scan_size lets
 * them, and the Bayes tokens the whole text (spamtok.h).
 */
#define SPAM_RULES_PART_TEXT_MAX	50000

struct spam_rules;

/*
 * Parse a rules text (name is for error messages, "FILE" or
 * "(default)").  NULL on error, with "name:line: why" in err.
 */
struct spam_rules	*spam_rules_parse(const char *text, size_t len,
			    const char *name, char *err, size_t errsz);
/* Read and parse path; NULL path: the built-in default set. */
struct spam_rules	*spam_rules_load(const char *path, char *err,
			    size_t errsz);
void			 spam_rules_free(struct spam_rules *);
/* Number of rules loaded (GTUBE included). */
size_t			 spam_rules_count(const struct spam_rules *);
/* Add the hits of every rule that matches sm to out. */
void			 spam_rules_check(const struct spam_rules *,
			    const struct spam_msg *sm, struct spam_score *out);

#endif
