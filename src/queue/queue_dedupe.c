/*
 * queue_dedupe: the destinations of one message that have a delivery,
 * keyed as queue_dedupe.h says.  An open-addressing table with linear
 * probing over a power-of-two array kept at most half full; keys are
 * never removed (a key whose recipient failed is put again by the next
 * one), so no tombstones.  Used by the queue role only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue_dedupe.h"
#include "util.h"

#define QUEUE_DEDUPE_CAP_MIN	16
/* Twice the most keys: the table never passes half full. */
#define QUEUE_DEDUPE_CAP_MAX	(2 * QUEUE_DEDUPE_MAX)

struct queue_dedupe_slot {
	char		*key;		/* NULL: free */
	uint64_t	 hash;
	uint32_t	 idx;
};

struct queue_dedupe {
	uint64_t			 seed;
	size_t				 n;
	size_t				 cap;	/* a power of two */
	struct queue_dedupe_slot	*slots;
};

/* --- keys --- */

static char
queue_dedupe_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* prefix, then s; from (an index into s) on in lower case. */
static char *
queue_dedupe_key(char prefix, const char *s, size_t len, size_t from)
{
	char	*k;
	size_t	 i;

	if (len == 0 || len + 1 > QUEUE_DEDUPE_KEY_MAX)
		return NULL;
	k = xmalloc(len + 2);
	k[0] = prefix;
	for (i = 0; i < len; i++)
		k[i + 1] = i >= from ? queue_dedupe_lower(s[i]) : s[i];
	k[len + 1] = '\0';
	return k;
}

char *
queue_dedupe_key_local(const char *mailbox)
{
	size_t	len = strnlen(mailbox, QUEUE_DEDUPE_KEY_MAX + 1);

	return queue_dedupe_key('L', mailbox, len, len);
}

/* The '@' before the domain of addr (len bytes), or NULL. */
static const char *
queue_dedupe_at(const char *addr, size_t len)
{
	const char	*at = memrchr(addr, '@', len);

	return at != NULL && at > addr && at + 1 < addr + len ? at : NULL;
}

char *
queue_dedupe_key_remote(const char *addr)
{
	size_t		 len = strnlen(addr, QUEUE_DEDUPE_KEY_MAX + 1);
	const char	*at = queue_dedupe_at(addr, len);

	if (at == NULL)
		return NULL;
	return queue_dedupe_key('R', addr, len, (size_t)(at - addr));
}

char *
queue_dedupe_key_addr(const char *addr)
{
	size_t	len = strnlen(addr, QUEUE_DEDUPE_KEY_MAX + 1);

	if (queue_dedupe_at(addr, len) == NULL)
		return NULL;
	return queue_dedupe_key('A', addr, len, 0);
}

/* --- the table --- */

/*
 * FNV-1a over the key from a per-table start, then a final mix (the
 * MurmurHash3 finalizer) so that the low bits the index takes depend on
 * every byte.
 */
static uint64_t
queue_dedupe_hash(uint64_t seed, const char *key)
{
	uint64_t	h = seed ^ 0xcbf29ce484222325ULL;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

struct queue_dedupe *
queue_dedupe_new_seeded(uint64_t seed)
{
	struct queue_dedupe	*d;

	d = xcalloc(1, sizeof(*d));
	d->seed = seed;
	d->cap = QUEUE_DEDUPE_CAP_MIN;
	d->slots = xcalloc(d->cap, sizeof(*d->slots));
	return d;
}

struct queue_dedupe *
queue_dedupe_new(void)
{
	return queue_dedupe_new_seeded(((uint64_t)arc4random() << 32) |
	    arc4random());
}

void
queue_dedupe_free(struct queue_dedupe *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < d->cap; i++)
		free(d->slots[i].key);
	free(d->slots);
	free(d);
}

/* The slot of key, or the free slot where it would go. */
static struct queue_dedupe_slot *
queue_dedupe_find(const struct queue_dedupe *d, const char *key,
    uint64_t hash)
{
	struct queue_dedupe_slot	*s;
	size_t				 i, mask = d->cap - 1;

	/* Never full (at most half), so a free slot ends every probe. */
	for (i = (size_t)hash & mask;; i = (i + 1) & mask) {
		s = &d->slots[i];
		if (s->key == NULL ||
		    (s->hash == hash && strcmp(s->key, key) == 0))
			return s;
	}
}

static void
queue_dedupe_grow(struct queue_dedupe *d)
{
	struct queue_dedupe_slot	*old = d->slots, *s;
	size_t				 oldcap = d->cap, i;

	d->cap *= 2;
	d->slots = xcalloc(d->cap, sizeof(*d->slots));
	for (i = 0; i < oldcap; i++) {
		if (old[i].key == NULL)
			continue;
		s = queue_dedupe_find(d, old[i].key, old[i].hash);
		*s = old[i];
	}
	free(old);
}

bool
queue_dedupe_get(const struct queue_dedupe *d, const char *key,
    uint32_t *idx_out)
{
	const struct queue_dedupe_slot	*s;

	if (key[0] == '\0')
		return false;
	s = queue_dedupe_find(d, key, queue_dedupe_hash(d->seed, key));
	if (s->key == NULL)
		return false;
	*idx_out = s->idx;
	return true;
}

int
queue_dedupe_put(struct queue_dedupe *d, const char *key, uint32_t idx)
{
	struct queue_dedupe_slot	*s;
	uint64_t			 hash;
	size_t				 len;

	len = strnlen(key, QUEUE_DEDUPE_KEY_MAX + 1);
	if (len == 0 || len > QUEUE_DEDUPE_KEY_MAX) {
		errno = EINVAL;
		return -1;
	}
	hash = queue_dedupe_hash(d->seed, key);
	s = queue_dedupe_find(d, key, hash);
	if (s->key != NULL) {
		s->idx = idx;
		return 0;
	}
	if (d->n >= QUEUE_DEDUPE_MAX) {
		errno = ENOSPC;
		return -1;
	}
	if (2 * (d->n + 1) > d->cap && d->cap < QUEUE_DEDUPE_CAP_MAX) {
		queue_dedupe_grow(d);
		s = queue_dedupe_find(d, key, hash);
	}
	s->key = xstrndup(key, len);
	s->hash = hash;
	s->idx = idx;
	d->n++;
	return 0;
}

size_t
queue_dedupe_count(const struct queue_dedupe *d)
{
	return d->n;
}
