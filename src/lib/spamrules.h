/*
 * spamrules: the rule language of the content filter (issue 15).  A
 * rules file the operator can read and extend (`spam-rules FILE`; with
 * none, the built-in default set) holds header tests, body tests over
 * the decoded text of every part (struct spam_msg: HTML as text), URI
 * tests and keyword tests matched after the obfuscation is normalised
 * away (case, leetspeak, inserted punctuation and spaces, Unicode
 * confusables, zero-width characters), each with a score and a
 * description.  GTUBE always scores over any reject line.
 *
 * Pure: no I/O but spam_rules_load() reading its file.  The rules file
 * is parsed with bounds (lines, rules, pattern lengths) and every error
 * names its line.
 *
 * STAND-IN: the `rules` helper replaces spamrules.c (and this comment
 * with the language's description); the signatures below are the
 * contract.
 */
#ifndef CACHET_SPAMRULES_H
#define CACHET_SPAMRULES_H

#include <stddef.h>

#include "spam.h"

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
/* Number of rules loaded. */
size_t			 spam_rules_count(const struct spam_rules *);
/* Add the hits of every rule that matches sm to out. */
void			 spam_rules_check(const struct spam_rules *,
			    const struct spam_msg *sm, struct spam_score *out);

#endif
