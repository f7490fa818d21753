/*
 * imap_index: the per-folder IMAP index, "cachet-index" beside the
 * uidlist.  It holds what IMAP needs and Maildir cannot: MODSEQ per
 * message and HIGHESTMODSEQ (RFC 7162), the UIDs expunged with the
 * MODSEQ of their expunge (QRESYNC's VANISHED (EARLIER)), and a cache of
 * the FETCH items that need the message parsed (ENVELOPE, BODY,
 * BODYSTRUCTURE), so that a client's first sync of a large folder reads
 * each file once and a second sync none.  UIDs and UIDVALIDITY stay the
 * uidlist's (store/maildir.c); the index only follows them.
 *
 * The file is an append-only log of records; see imap_index.c for the
 * format and docs/architecture.md for why.  It is always rebuildable:
 * a missing, damaged, hostile or foreign (other UIDVALIDITY) file is
 * replaced by a new one whose MODSEQs are above any given out before
 * (they are taken from the clock, see imap_index_next()), with every
 * older expunge forgotten, so that QRESYNC then answers conservatively.
 *
 * Run by the imap role in its chroot (paths relative to mail-dir), as
 * the mailboxes' owner.  Several sessions and processes share a folder's
 * index: every change happens between imap_index_begin() and
 * imap_index_end(), under an fcntl lock on "cachet-index.lock", after
 * reading what the others appended.  The reader trusts nothing in the
 * file: records are bounded, checksummed and checked field by field.
 */
#ifndef CACHET_IMAP_INDEX_H
#define CACHET_IMAP_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "store/maildir.h"

#define IMAP_INDEX_FILE		"cachet-index"
#define IMAP_INDEX_LOCK		"cachet-index.lock"
/* A record's payload (a cache record: three strings). */
#define IMAP_INDEX_REC_MAX	(1024 * 1024)
/* The whole file; past it the index is rebuilt. */
#define IMAP_INDEX_FILE_MAX	((uint64_t)1 << 31)
/* Expunge ranges remembered; older ones are forgotten (RFC 7162 §3.2.5). */
#define IMAP_INDEX_GONE_MAX	2048
/* Messages an index may describe (as maildir_list()). */
#define IMAP_INDEX_MSGS_MAX	MAILDIR_LIST_MAX
/* RFC 7162 §7: mod-sequence-value is at most 2^63 - 1. */
#define IMAP_INDEX_MODSEQ_MAX	((uint64_t)INT64_MAX)

/*
 * What the index knows of one message (sorted by UID): 32 bytes, as
 * every session with the folder selected holds one per message.  The
 * cache record is only located here; what it holds (the file size it
 * was made for, the strings) is read and checked when it is used.
 */
struct imap_index_msg {
	uint32_t	 uid;
	uint32_t	 cache_len : 31;	/* its cache record's bytes */
	uint32_t	 dead : 1;	/* expunged, kept until compaction */
	uint64_t	 modseq;
	uint64_t	 flags;		/* imap_index_flag_mask() */
	uint64_t	 cache_off;	/* its cache record, 0: none */
};

/* UIDs lo..hi expunged at modseq. */
struct imap_index_gone {
	uint32_t	 lo, hi;
	uint64_t	 modseq;
};

struct imap_index {
	uint32_t		 uidvalidity;
	uint64_t		 highest;	/* HIGHESTMODSEQ */
	uint64_t		 forgotten;	/* expunges up to it forgotten */
	struct imap_index_msg	*msgs;
	size_t			 nmsgs, msgcap, ndead;
	struct imap_index_gone	*gone;
	size_t			 ngone, gonecap;
	bool			 have_header;

	/* the file, when opened by imap_index_open() */
	char			*dir;
	int			 fd, lockfd;
	dev_t			 dev;
	ino_t			 ino;
	uint64_t		 off;		/* bytes read and applied */
	struct buf		 wr;		/* records to append at end */
	struct buf		 pend;		/* cache records queued */
	bool			 rebuilt;	/* made anew at the last begin */
	/*
	 * Cache records applied are only located, not checked (their CRC
	 * and strings are checked by imap_index_cache_get()): set while
	 * the file is read, so that SELECT does not checksum megabytes of
	 * cache it may never use.
	 */
	bool			 lazy;
};

/* The cached FETCH strings of a message, as imap_struct.c wrote them. */
struct imap_index_cache {
	struct buf	 envelope, body, bodystructure;
};

/*
 * Letters of a Maildir ":2," info (A-Z, a-z) as a bit mask and back
 * (sorted); other bytes are ignored.
 */
uint64_t	imap_index_flag_mask(const char *letters);
/* The bit of one letter (A-Z: 0-25, a-z: 26-51), 0 for another byte. */
static inline uint64_t
imap_index_flag_bit(char c)
{
	if (c >= 'A' && c <= 'Z')
		return UINT64_C(1) << (c - 'A');
	if (c >= 'a' && c <= 'z')
		return UINT64_C(1) << (c - 'a' + 26);
	return 0;
}
void		imap_index_flag_letters(uint64_t mask, char out[53]);

/*
 * The pure part (unit tests and the fuzz target use it directly): an
 * index in memory, and records applied to it from bytes.
 */
void	imap_index_init(struct imap_index *);
void	imap_index_reset(struct imap_index *);	/* free the state */
/*
 * Apply the whole records at the start of p (the file from offset off);
 * *used_out says how many bytes they took (a last record cut short
 * stays unused).  -1 with *errstr_out when a record is bad: the index
 * must then be rebuilt.
 */
int	imap_index_apply(struct imap_index *, const char *p, size_t len,
	    uint64_t off, size_t *used_out, const char **errstr_out);
/* Record writers, appending to b (the file's form). */
void	imap_index_put_header(struct buf *b, uint32_t uidvalidity,
	    uint64_t highest, uint64_t forgotten);
void	imap_index_put_msg(struct buf *b, uint32_t uid, uint64_t modseq,
	    uint64_t flags);
void	imap_index_put_gone(struct buf *b, uint32_t lo, uint32_t hi,
	    uint64_t modseq);
/* -1 when the strings do not fit one record (then it is not cached). */
int	imap_index_put_cache(struct buf *b, uint32_t uid, uint64_t size,
	    struct span envelope, struct span body, struct span bodystructure);

/* The entry of uid, or NULL. */
struct imap_index_msg	*imap_index_find(struct imap_index *, uint32_t uid);

/*
 * The next MODSEQ to give out: above HIGHESTMODSEQ and at least the
 * clock's seconds times 2^20, so that an index rebuilt after a loss
 * still counts above every value announced before (a million changes a
 * second would have to go on for as long as the folder existed to catch
 * up with the clock).
 */
uint64_t	imap_index_next(const struct imap_index *, int64_t now);

/* --- the file --- */

/*
 * Open the index of the folder dir for a listing with this UIDVALIDITY.
 * Nothing is read until imap_index_begin().  NULL with *errstr_out when
 * the lock file cannot be opened.
 */
struct imap_index	*imap_index_open(const char *dir, uint32_t uidvalidity,
			    const char **errstr_out);
void			 imap_index_close(struct imap_index *);

/*
 * Lock, then read what others appended (the whole file again when it
 * was replaced); a missing, bad or foreign file is rebuilt (rebuilt is
 * set).  The UIDVALIDITY may be changed here to follow a new listing.
 */
int	imap_index_begin(struct imap_index *, uint32_t uidvalidity, int64_t now,
	    const char **errstr_out);
/* Append the records made since begin (compacting when due), unlock. */
int	imap_index_end(struct imap_index *, int64_t now,
	    const char **errstr_out);

/*
 * Between begin and end: bring the index in line with a listing of the
 * folder (new messages and changed flags get a new MODSEQ, messages gone
 * an expunge record).  Entries with UID 0 are skipped.
 */
void	imap_index_sync(struct imap_index *, const struct maildir_list *,
	    int64_t now);
/* A message's flags are now these letters: its new MODSEQ. */
uint64_t imap_index_set(struct imap_index *, uint32_t uid,
	    const char *letters, int64_t now);
/* These UIDs (ascending) are expunged; one MODSEQ for them all. */
void	imap_index_expunge(struct imap_index *, const uint32_t *uids,
	    size_t n, int64_t now);
/* The cache of a message, appended at end (size: its file's size). */
void	imap_index_cache_add(struct imap_index *, uint32_t uid, uint64_t size,
	    struct span envelope, struct span body, struct span bodystructure);

/*
 * The same without the lock: the record waits in memory and goes out
 * with the next imap_index_end() (so that a FETCH of many messages
 * takes the lock once per batch, not once per message).
 */
void	imap_index_cache_queue(struct imap_index *, uint32_t uid,
	    uint64_t size, struct span envelope, struct span body,
	    struct span bodystructure);

/*
 * The cached strings of uid made for a file of this size: 0, or -1 when
 * there are none (or the record read back is bad).  Needs no lock: the
 * record is read through the descriptor of the file it was in.
 */
int	imap_index_cache_get(struct imap_index *, uint32_t uid, uint64_t size,
	    struct imap_index_cache *out);
void	imap_index_cache_init(struct imap_index_cache *);
void	imap_index_cache_free(struct imap_index_cache *);

/*
 * UIDs expunged after modseq (VANISHED (EARLIER), RFC 7162 §3.2.5),
 * within the UIDs of set (NULL: all), as a compressed UID set appended
 * to out.  When modseq is older than what the index remembers
 * (forgotten), every UID below uidnext in set that is neither live is
 * named instead: a superset, which the RFC allows.
 */
struct imap_seqset;
void	imap_index_vanished(const struct imap_index *, uint64_t modseq,
	    const struct imap_seqset *set, uint32_t uidnext, struct buf *out);

#endif
