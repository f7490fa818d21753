/*
 * queue_dedupe: which final destinations of one message have already been
 * given a delivery, so that a mailbox gets one copy of a message however
 * many of its recipients lead there (the same RCPT twice, an alias and
 * its target, two aliases of one user, user+a and user+b), and an address
 * of another domain is sent one RCPT (Postfix's duplicate filter, Dovecot
 * LMTP's duplicate recipients).  Run by the queue role, one table per
 * message; the queue decides what a hit means (queue.c "duplicates").
 *
 * A destination is a key: "L" and the mailbox path for a local mailbox
 * (mailbox_path(), so every tag and every spelling of one user is
 * one key), "R" and the address with its domain in lower case for an
 * address of another domain (the local part is the remote host's to
 * compare, RFC 5321 §2.4), "A" and the address in lower case for a
 * recipient known only as delivered (after a restart of the queue the
 * mailbox it went to is not known; its address still is).
 *
 * The table is bounded: at most QUEUE_DEDUPE_MAX destinations per
 * message, as Postfix bounds its filter (duplicate_filter_limit); past
 * that, further destinations are delivered without the check, so a huge
 * list can only cost a duplicate, never a lost recipient.  Keys come from
 * addresses a client chose, so the hash is seeded per table
 * (arc4random()) and probing is bounded by the table's size.
 *
 * Pure: no role state, no I/O; allocation failure is fatal (util.h).
 */
#ifndef CACHET_QUEUE_DEDUPE_H
#define CACHET_QUEUE_DEDUPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUEUE_DEDUPE_MAX	4096	/* destinations per message */
#define QUEUE_DEDUPE_KEY_MAX	1100	/* bytes of a key, NUL excluded */

struct queue_dedupe;

/*
 * The keys; NULL when the string is empty, too long or, for an address,
 * has no '@' followed by a domain.  Free with free().
 */
char	*queue_dedupe_key_local(const char *mailbox);
char	*queue_dedupe_key_remote(const char *addr);
char	*queue_dedupe_key_addr(const char *addr);

/* An empty table with a fresh seed; free with queue_dedupe_free(). */
struct queue_dedupe	*queue_dedupe_new(void);
void			 queue_dedupe_free(struct queue_dedupe *);

/* As queue_dedupe_new(), with the hash seed given (for tests). */
struct queue_dedupe	*queue_dedupe_new_seeded(uint64_t seed);

/* The recipient index key was last put with: true, else false. */
bool	queue_dedupe_get(const struct queue_dedupe *, const char *key,
	    uint32_t *idx_out);

/*
 * Remember that key is (now) recipient idx's, replacing what it was.  -1
 * with ENOSPC when the table holds QUEUE_DEDUPE_MAX keys and key is not
 * one of them (the caller delivers without the check), EINVAL for a key
 * that no key function makes (empty, too long).
 */
int	queue_dedupe_put(struct queue_dedupe *, const char *key, uint32_t idx);

/* Keys held. */
size_t	queue_dedupe_count(const struct queue_dedupe *);

#endif
