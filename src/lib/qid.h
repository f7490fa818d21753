/*
 * qid: queue ids (16 lowercase hex digits), shared by every role that
 * names a message of the spool.
 */
#ifndef CACHET_QID_H
#define CACHET_QID_H

#include <stdbool.h>
#include <stdint.h>

#define QID_LEN		16	/* hex digits */
#define QID_SIZE	(QID_LEN + 1)

/*
 * Make a new id into out: 16 lowercase hex digits, the top 44 bits the
 * wall-clock milliseconds now_ms (CLOCK_REALTIME, not util.h's monotonic
 * now_ms()), the low 20 bits an 8-bit per-process tag (random, mixed
 * with the pid, renewed after fork) and a 12-bit sequence.  Within one
 * process ids strictly increase, so they sort by time as strings; a
 * process that makes more than 4096 in one millisecond, or whose clock
 * steps back, borrows the following milliseconds.  Across processes a
 * collision is improbable, not impossible: queue_fs_create() relies on
 * O_EXCL, not on this.
 */
void	qid_new(uint64_t now_ms, char out[QID_SIZE]);

/* True when s is exactly 16 lowercase hex digits then NUL. */
bool	qid_valid(const char *s);

/* Milliseconds since the epoch of an id (its top 44 bits). */
uint64_t	qid_time(const char *id);

#endif
