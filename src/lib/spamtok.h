/*
 * spamtok: the Bayes tokenizer (issue 15).  A message (struct spam_msg)
 * becomes a set of unique tokens: words of the decoded text, header
 * fields with their names, URLs and their parts, and the structure
 * features that generalise across corpora.
 *
 * Pure.  Hostile input: at most SPAM_TOKENS_MAX tokens of at most
 * SPAM_TOKEN_MAX bytes, linear time.
 *
 * STAND-IN: the `bayes` helper replaces spamtok.c (and this comment with
 * what the tokens are); the signature is the contract.
 */
#ifndef CACHET_SPAMTOK_H
#define CACHET_SPAMTOK_H

#include "spam.h"

/* Append sm's unique tokens to out (which the caller reset). */
void	spam_tokenize(const struct spam_msg *sm, struct spam_tokens *out);

#endif
