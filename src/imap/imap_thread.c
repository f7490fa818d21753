/*
 * imap_thread: the THREAD algorithms of RFC 5256 §3 (contract in
 * imap_thread.h).  Run by the imap role over what imap_thread_msg_make()
 * took from hostile headers.  Containers live in one array and are
 * linked by index (parent, first child, next sibling); the Message-ID
 * and subject tables are open-addressing hashes over it.  No recursion:
 * bottom-up passes use the reverse of an explicit-stack pre-order walk.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_search.h"
#include "imap_sort.h"
#include "imap_thread.h"
#include "log.h"
#include "mime_hdr.h"
#include "util.h"

#define NONE	UINT32_MAX

/* --- the messages --- */

void
imap_thread_msg_make(struct imap_thread_msg *t, const struct mime_msg *msg,
    uint32_t num, uint32_t seq, int64_t internaldate)
{
	const struct mime_field	*f;
	struct mime_msgids	 ids;
	struct buf		 b;
	size_t			 i, first;

	memset(t, 0, sizeof(*t));
	memset(&ids, 0, sizeof(ids));
	t->num = num;
	t->seq = seq;
	t->date = imap_sort_sent_date(msg, internaldate);

	buf_init(&b, IMAP_SORT_STR_MAX);
	f = mime_part_field(msg, 0, "Subject", NULL);
	if (f != NULL) {
		struct buf	base;

		buf_init(&base, IMAP_SORT_STR_MAX);
		(void)imap_sort_base_subject(mime_field_value(msg, f), &base,
		    &t->reply);
		(void)imap_search_fold(span_make(base.data != NULL ?
		    base.data : "", base.len), &b);
		buf_free(&base);
	}
	t->subject = xstrndup(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);

	f = mime_part_field(msg, 0, "Message-ID", NULL);
	if (f != NULL && mime_hdr_msgids(mime_field_value(msg, f), &ids) == 0)
		t->msgid = xstrndup(ids.v[0].ptr, ids.v[0].len);

	/* RFC 5256 §3 step 1.A: References, else In-Reply-To's first id */
	f = mime_part_field(msg, 0, "References", NULL);
	if (f == NULL || mime_hdr_msgids(mime_field_value(msg, f),
	    &ids) == -1) {
		f = mime_part_field(msg, 0, "In-Reply-To", NULL);
		if (f == NULL || mime_hdr_msgids(mime_field_value(msg, f),
		    &ids) == -1)
			ids.n = 0;
		else
			ids.n = 1;
	}
	if (ids.n > 0) {
		/* the nearest ancestors matter most: keep the tail */
		first = ids.n > IMAP_THREAD_REFS_MAX ?
		    ids.n - IMAP_THREAD_REFS_MAX : 0;
		t->refs = xcalloc(ids.n - first, sizeof(*t->refs));
		for (i = first; i < ids.n; i++)
			t->refs[t->nrefs++] = xstrndup(ids.v[i].ptr,
			    ids.v[i].len);
	}
	mime_msgids_free(&ids);
}

void
imap_thread_msg_free(struct imap_thread_msg *t)
{
	size_t	i;

	free(t->subject);
	free(t->msgid);
	for (i = 0; i < t->nrefs; i++)
		free(t->refs[i]);
	free(t->refs);
	memset(t, 0, sizeof(*t));
}

/* --- containers --- */

struct cont {
	uint32_t	 msg;		/* index into the messages, NONE: dummy */
	uint32_t	 parent;
	uint32_t	 child;		/* first child */
	uint32_t	 next;		/* next sibling */
	int64_t		 date;		/* for sorting: own or first child's */
	uint32_t	 seq;
	bool		 gone;		/* merged away at the root */
};

struct tree {
	const struct imap_thread_msg *m;
	struct cont	*c;
	uint32_t	 n, cap;
	uint32_t	*hash;		/* container indices, NONE: empty */
	const char	**key;		/* the id each hashed container has */
	size_t		 hcap;
	uint32_t	 roots;		/* first root, linked by next */
};

static uint64_t
str_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static uint32_t
cont_new(struct tree *t, uint32_t msg)
{
	struct cont	*c;

	if (t->n == t->cap)
		fatalx("imap_thread: containers");
	c = &t->c[t->n];
	c->msg = msg;
	c->parent = c->child = c->next = NONE;
	return t->n++;
}

/* The container for an id, made (a dummy) when new. */
static uint32_t
id_lookup(struct tree *t, const char *id, bool create, bool *found_out)
{
	size_t	i = str_hash(id) & (t->hcap - 1);

	while (t->hash[i] != NONE) {
		if (strcmp(t->key[t->hash[i]], id) == 0) {
			*found_out = true;
			return t->hash[i];
		}
		i = (i + 1) & (t->hcap - 1);
	}
	*found_out = false;
	if (!create)
		return NONE;
	t->hash[i] = cont_new(t, NONE);
	t->key[t->hash[i]] = id;
	return t->hash[i];
}

/* Is a an ancestor of b, or b itself? */
static bool
ancestor(const struct tree *t, uint32_t a, uint32_t b)
{
	uint32_t	steps = 0;

	for (; b != NONE && steps <= t->n; b = t->c[b].parent, steps++)
		if (b == a)
			return true;
	return false;
}

static void
unlink_child(struct tree *t, uint32_t x)
{
	uint32_t	p = t->c[x].parent, *pp;

	if (p == NONE)
		return;
	for (pp = &t->c[p].child; *pp != NONE; pp = &t->c[*pp].next)
		if (*pp == x) {
			*pp = t->c[x].next;
			break;
		}
	t->c[x].parent = t->c[x].next = NONE;
}

/* Append x to p's children (x has no parent). */
static void
add_child(struct tree *t, uint32_t p, uint32_t x)
{
	uint32_t	*pp;

	for (pp = &t->c[p].child; *pp != NONE; pp = &t->c[*pp].next)
		;
	*pp = x;
	t->c[x].parent = p;
	t->c[x].next = NONE;
}

/* RFC 5256 §3 step 1: the containers and their links. */
static void
link_messages(struct tree *t, size_t n)
{
	const struct imap_thread_msg	*m;
	uint32_t			 prev, c, own;
	size_t				 i, j;
	bool				 found;

	for (i = 0; i < n; i++) {
		m = &t->m[i];
		prev = NONE;
		for (j = 0; j < m->nrefs; j++) {
			c = id_lookup(t, m->refs[j], true, &found);
			/* A: link unless already linked or a loop */
			if (prev != NONE && t->c[c].parent == NONE &&
			    !ancestor(t, c, prev))
				add_child(t, prev, c);
			prev = c;
		}
		own = NONE;
		if (m->msgid != NULL) {
			own = id_lookup(t, m->msgid, true, &found);
			/* a duplicate id: the later message gets its own */
			if (t->c[own].msg != NONE)
				own = NONE;
		}
		if (own == NONE)
			own = cont_new(t, NONE);
		t->c[own].msg = (uint32_t)i;
		/* B: the last reference is the parent, replacing any */
		if (prev != NONE && ancestor(t, own, prev))
			continue;
		unlink_child(t, own);
		if (prev != NONE)
			add_child(t, prev, own);
	}
}

/*
 * Every container reachable from the root list, each after all of its
 * descendants (the reverse of a pre-order walk).  order has room for
 * t->n; returns how many.
 */
static uint32_t
bottom_up(const struct tree *t, uint32_t *order, uint32_t *stack)
{
	uint32_t	no = 0, ns = 0, x, ch, i;

	for (x = t->roots; x != NONE; x = t->c[x].next)
		stack[ns++] = x;
	while (ns > 0) {
		x = stack[--ns];
		order[no++] = x;
		for (ch = t->c[x].child; ch != NONE; ch = t->c[ch].next)
			stack[ns++] = ch;
	}
	for (i = 0; i < no / 2; i++) {
		x = order[i];
		order[i] = order[no - 1 - i];
		order[no - 1 - i] = x;
	}
	return no;
}

/*
 * Step 3 on one sibling list: dummies without children go, dummies with
 * children give way to them (at the root only when there is one).
 */
static uint32_t
prune_list(struct tree *t, uint32_t first, uint32_t parent)
{
	uint32_t	head = NONE, *tail = &head, x, nx, ch, nch;

	for (x = first; x != NONE; x = nx) {
		nx = t->c[x].next;
		if (t->c[x].msg == NONE && t->c[x].child == NONE)
			continue;
		if (t->c[x].msg == NONE && (parent != NONE ||
		    t->c[t->c[x].child].next == NONE)) {
			for (ch = t->c[x].child; ch != NONE; ch = nch) {
				nch = t->c[ch].next;
				t->c[ch].parent = parent;
				*tail = ch;
				tail = &t->c[ch].next;
			}
			continue;
		}
		*tail = x;
		tail = &t->c[x].next;
	}
	*tail = NONE;
	return head;
}

/* The message that speaks for a root: itself, or a dummy's first child. */
static const struct imap_thread_msg *
root_msg(const struct tree *t, uint32_t x)
{
	if (t->c[x].msg == NONE)
		x = t->c[x].child;
	return x == NONE || t->c[x].msg == NONE ? NULL : &t->m[t->c[x].msg];
}

/* The subject table slot for s (an empty slot when s is not in it). */
static size_t
subj_slot(const struct tree *t, const uint32_t *tab, size_t cap,
    const char *s)
{
	size_t	i;

	for (i = str_hash(s) & (cap - 1); tab[i] != NONE;
	    i = (i + 1) & (cap - 1))
		if (strcmp(root_msg(t, tab[i])->subject, s) == 0)
			break;
	return i;
}

/*
 * Step 5: roots with the same base subject gathered under one.  The
 * roots are taken into an array first, as merging relinks them.
 */
static void
gather_subjects(struct tree *t)
{
	const struct imap_thread_msg	*rm, *tm;
	uint32_t			*tab, *r, nr = 0, k, x, y, d, ch, nch;
	uint32_t			 n0 = t->n, head = NONE, *tail = &head;
	size_t				 cap = t->hcap, i;
	bool				 xd, yd;

	for (x = t->roots; x != NONE; x = t->c[x].next)
		nr++;
	r = xcalloc((size_t)nr + 1, sizeof(*r));
	for (nr = 0, x = t->roots; x != NONE; x = t->c[x].next)
		r[nr++] = x;
	tab = xcalloc(cap, sizeof(*tab));
	for (i = 0; i < cap; i++)
		tab[i] = NONE;
	for (k = 0; k < nr; k++) {
		x = r[k];
		if ((rm = root_msg(t, x)) == NULL || rm->subject[0] == '\0')
			continue;
		i = subj_slot(t, tab, cap, rm->subject);
		if (tab[i] == NONE) {
			tab[i] = x;
			continue;
		}
		y = tab[i];
		tm = root_msg(t, y);
		/*
		 * B.iv: a message in the table (never a dummy) gives way
		 * to a dummy, and a reply to a non-reply
		 */
		if (t->c[y].msg != NONE && (t->c[x].msg == NONE ||
		    (tm->reply && !rm->reply)))
			tab[i] = x;
	}
	for (k = 0; k < nr; k++) {
		x = r[k];
		/* already placed under another root by a merge */
		if (t->c[x].gone || t->c[x].parent != NONE)
			continue;
		if ((rm = root_msg(t, x)) == NULL || rm->subject[0] == '\0')
			continue;
		i = subj_slot(t, tab, cap, rm->subject);
		y = tab[i];
		if (y == x)
			continue;
		tm = root_msg(t, y);
		xd = t->c[x].msg == NONE;
		yd = t->c[y].msg == NONE;
		t->c[x].gone = true;
		t->c[x].next = NONE;
		if (xd && yd) {
			/* D: both dummies: x's children join y's */
			for (ch = t->c[x].child; ch != NONE; ch = nch) {
				nch = t->c[ch].next;
				add_child(t, y, ch);
			}
			t->c[x].child = NONE;
		} else if (yd || (rm->reply && !tm->reply)) {
			/* into the dummy; or a reply under its original */
			add_child(t, y, x);
		} else {
			/* neither is the other's reply: a new dummy for both */
			d = cont_new(t, NONE);
			t->c[y].gone = true;
			add_child(t, d, y);
			add_child(t, d, x);
			tab[i] = d;
		}
	}
	for (k = 0; k < nr; k++)
		if (!t->c[r[k]].gone) {
			*tail = r[k];
			tail = &t->c[r[k]].next;
		}
	for (x = n0; x < t->n; x++)
		if (!t->c[x].gone && t->c[x].parent == NONE) {
			*tail = x;
			tail = &t->c[x].next;
		}
	*tail = NONE;
	t->roots = head;
	free(tab);
	free(r);
}

static int
cont_cmp(const void *va, const void *vb, void *arg)
{
	const struct tree	*t = arg;
	const struct cont	*a = &t->c[*(const uint32_t *)va];
	const struct cont	*b = &t->c[*(const uint32_t *)vb];

	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Step 6: each sibling list by sent date, a dummy by its first child. */
static uint32_t
sort_list(struct tree *t, uint32_t first, uint32_t *tmp)
{
	uint32_t	k = 0, x, i;

	for (x = first; x != NONE; x = t->c[x].next)
		tmp[k++] = x;
	if (k == 0)
		return NONE;
	qsort_r(tmp, k, sizeof(*tmp), cont_cmp, t);
	for (i = 0; i + 1 < k; i++)
		t->c[tmp[i]].next = tmp[i + 1];
	t->c[tmp[k - 1]].next = NONE;
	return tmp[0];
}

static void
sort_tree(struct tree *t, uint32_t *order, uint32_t *stack)
{
	uint32_t	no, i;
	struct cont	*c;

	no = bottom_up(t, order, stack);
	for (i = 0; i < no; i++) {
		c = &t->c[order[i]];
		c->child = sort_list(t, c->child, stack);
		if (c->msg != NONE) {
			c->date = t->m[c->msg].date;
			c->seq = t->m[c->msg].seq;
		} else if (c->child != NONE) {
			c->date = t->c[c->child].date;
			c->seq = t->c[c->child].seq;
		}
	}
	t->roots = sort_list(t, t->roots, stack);
}

/* --- the response (RFC 5256 §4) --- */

#define TOK_OPEN	(NONE - 1)
#define TOK_CLOSE	(NONE - 2)
#define TOK_SPACE	(NONE - 3)

static int
write_threads(const struct tree *t, struct buf *out, uint32_t *stack)
{
	uint32_t	ns = 0, x, ch, k, i, r;
	int		rc = 0;

	for (r = t->roots; r != NONE && rc == 0; r = t->c[r].next) {
		stack[ns++] = TOK_CLOSE;
		stack[ns++] = r;
		stack[ns++] = TOK_OPEN;
		while (ns > 0 && rc == 0) {
			x = stack[--ns];
			if (x == TOK_OPEN || x == TOK_CLOSE || x == TOK_SPACE) {
				rc = buf_append_char(out, x == TOK_OPEN ? '(' :
				    x == TOK_CLOSE ? ')' : ' ');
				continue;
			}
			if (t->c[x].msg != NONE)
				rc = buf_printf(out, "%" PRIu32,
				    t->m[t->c[x].msg].num);
			for (k = 0, ch = t->c[x].child; ch != NONE;
			    ch = t->c[ch].next)
				k++;
			if (k == 1)
				stack[ns++] = t->c[x].child;
			else if (k > 1) {
				/* pushed last to first, so they pop in order */
				for (i = k; i > 0; i--) {
					uint32_t	j;

					for (j = 1, ch = t->c[x].child; j < i;
					    j++)
						ch = t->c[ch].next;
					stack[ns++] = TOK_CLOSE;
					stack[ns++] = ch;
					stack[ns++] = TOK_OPEN;
				}
			}
			if (k > 0 && t->c[x].msg != NONE)
				stack[ns++] = TOK_SPACE;
		}
	}
	return rc;
}

/* --- the algorithms --- */

static int
run_references(struct tree *t, size_t n, struct buf *out)
{
	uint32_t	*order, *stack, no, i, x;
	int		 rc;

	link_messages(t, n);
	/* 2: the roots; the id table is no longer needed */
	t->roots = NONE;
	for (x = t->n; x-- > 0;)
		if (t->c[x].parent == NONE) {
			t->c[x].next = t->roots;
			t->roots = x;
		}
	order = xcalloc((size_t)t->cap, sizeof(*order));
	stack = xcalloc((size_t)t->cap * 4 + 4, sizeof(*stack));
	/* 3 */
	no = bottom_up(t, order, stack);
	for (i = 0; i < no; i++)
		t->c[order[i]].child = prune_list(t, t->c[order[i]].child,
		    order[i]);
	t->roots = prune_list(t, t->roots, NONE);
	/*
	 * RFC 5256 §3 step 4: the roots by sent date (a dummy by its first
	 * child, its children sorted first) before step 5 looks at them in
	 * that order; sorting the levels below too changes nothing there.
	 */
	sort_tree(t, order, stack);
	/* 5 */
	gather_subjects(t);
	/* 6 */
	sort_tree(t, order, stack);
	rc = write_threads(t, out, stack);
	free(order);
	free(stack);
	return rc;
}

static int
subj_cmp(const void *va, const void *vb, void *arg)
{
	const struct imap_thread_msg	*m = arg;
	const struct imap_thread_msg	*a = &m[*(const uint32_t *)va];
	const struct imap_thread_msg	*b = &m[*(const uint32_t *)vb];
	int				 r;

	if ((r = imap_sort_strcmp(a->subject, b->subject)) != 0)
		return r;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * ORDEREDSUBJECT (RFC 5256 §3): by base subject then date; each run of
 * one subject is a thread whose first message is the parent of the
 * others; threads by the date of their first message.
 */
static int
run_orderedsubject(struct tree *t, size_t n, struct buf *out)
{
	uint32_t	*idx, *order, *stack, i, j, root;
	int		 rc;

	idx = xcalloc(n, sizeof(*idx));
	for (i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), subj_cmp, (void *)(uintptr_t)t->m);
	t->roots = NONE;
	for (i = 0; i < n; i = j) {
		root = cont_new(t, idx[i]);
		for (j = i + 1; j < n && strcmp(t->m[idx[j]].subject,
		    t->m[idx[i]].subject) == 0; j++)
			add_child(t, root, cont_new(t, idx[j]));
		t->c[root].next = t->roots;
		t->roots = root;
	}
	free(idx);
	order = xcalloc((size_t)t->cap, sizeof(*order));
	stack = xcalloc((size_t)t->cap * 4 + 4, sizeof(*stack));
	/* children are in date order already; sorting keeps it */
	sort_tree(t, order, stack);
	rc = write_threads(t, out, stack);
	free(order);
	free(stack);
	return rc;
}

int
imap_thread_run(enum imap_thread_alg alg, const struct imap_thread_msg *v,
    size_t n, struct buf *out)
{
	struct tree	t;
	size_t		cap, i;
	int		rc;

	if (n == 0)
		return 0;
	if (n > UINT32_MAX / 4)
		fatalx("imap_thread: too many messages");
	memset(&t, 0, sizeof(t));
	t.m = v;
	/* a container per message, per reference, per step-5 dummy */
	cap = 2 * n + 1;
	for (i = 0; i < n; i++)
		if (__builtin_add_overflow(cap, v[i].nrefs, &cap))
			fatalx("imap_thread: too many references");
	if (cap > UINT32_MAX / 4)
		fatalx("imap_thread: too many references");
	t.cap = (uint32_t)cap;
	t.c = xcalloc(cap, sizeof(*t.c));
	for (t.hcap = 16; t.hcap < cap * 2; t.hcap *= 2)
		;
	t.hash = xcalloc(t.hcap, sizeof(*t.hash));
	for (i = 0; i < t.hcap; i++)
		t.hash[i] = NONE;
	t.key = xcalloc(cap, sizeof(*t.key));
	if (alg == IMAP_THREAD_REFERENCES)
		rc = run_references(&t, n, out);
	else
		rc = run_orderedsubject(&t, n, out);
	free(t.c);
	free(t.hash);
	free(t.key);
	return rc;
}
