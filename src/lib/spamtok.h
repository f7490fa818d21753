/*
 * spamtok: the Bayes tokenizer (issue 15).  A message (struct spam_msg)
 * becomes a set of unique tokens, built to generalise across senders
 * and years rather than to remember one corpus:
 *
 *   header    hdr:NAME per field; subject:WORD; from:/reply-to:/sender:
 *             name words, local part, domain and its parents; to:/cc:
 *             domains and counts; received: hosts, parents, ip:A.B.C
 *             and ip:A.B, with:PROTO; msgid: domain; x-mailer: and other
 *             software fields' words; subject:none, msgid:none, ...
 *   structure ctype:T/S, attach:T/S, attach:ext:E, cte:, charset:,
 *             mime:parts:N, mime:html-only, mime:<malformation>
 *   URLs      url:scheme:S, url:HOST and parents, url:ip:, url:port,
 *             url:path:WORD; email:dom: for addresses in the text
 *   text      words lower-cased (UTF-8 aware), 3 to 20 characters,
 *             longer ones as "skip:C N0", numbers by shape ("$9,999.99");
 *             text:words:N, text:caps%:N
 *
 * Counts are bucketed in powers of two.  The header and structure come
 * first, so a long body cannot crowd them out.  X-Spam-* fields (other
 * filters' verdicts, and ours) are not read.
 *
 * Pure.  Hostile input: at most SPAM_TOKENS_MAX tokens of at most
 * SPAM_TOKEN_MAX bytes (cut on a character boundary), linear time.
 */
#ifndef CACHET_SPAMTOK_H
#define CACHET_SPAMTOK_H

#include "spam.h"

/* Append sm's unique tokens to out (which the caller reset). */
void	spam_tokenize(const struct spam_msg *sm, struct spam_tokens *out);

#endif
