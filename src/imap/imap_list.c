/*
 * imap_list: the mailboxes a LIST answers (contract in imap_list.h).
 * Pure: the names come from the role (folders on disk, the
 * subscriptions file), the options and patterns from imap_parse.
 *
 * Every name considered is a node: INBOX, each folder, each level above
 * a folder (Maildir++ has no directory for "a" when only "a.b" exists),
 * each subscription and each level above one.  The nodes are sorted and
 * merged once, then the children facts are found by looking up each
 * node's parent, and each node is matched against the patterns once.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_list.h"
#include "imap_mbox.h"
#include "log.h"
#include "util.h"

#define N_EXISTS	0x01	/* INBOX or a folder */
#define N_PARENT	0x02	/* a level above a folder */
#define N_SUBSCRIBED	0x04
#define N_HASCHILD	0x08	/* a folder or a parent level below */
#define N_CHILDSUB	0x10	/* a subscribed name below, not matched */
#define N_MATCH		0x20	/* a pattern matches the name */

struct list_node {
	char		*name;
	size_t		 len;
	unsigned	 fl;
};

struct list_nodes {
	struct list_node *v;
	size_t		 n, cap;
};

static void
nodes_add(struct list_nodes *ns, const char *name, size_t len, unsigned fl)
{
	if (ns->n == IMAP_LIST_NAMES_MAX)
		return;
	if (ns->n == ns->cap) {
		ns->cap = ns->cap == 0 ? 64 : ns->cap * 2;
		ns->v = xrealloc(ns->v, ns->cap * sizeof(*ns->v));
	}
	ns->v[ns->n].name = xstrndup(name, len);
	ns->v[ns->n].len = len;
	ns->v[ns->n].fl = fl;
	ns->n++;
}

/* A name and, with fl_parent, every level above it. */
static void
nodes_add_path(struct list_nodes *ns, const char *name, unsigned fl,
    unsigned fl_parent)
{
	size_t	i, len = strlen(name);

	if (len == 0)
		return;
	nodes_add(ns, name, len, fl);
	for (i = 1; i + 1 < len; i++)
		if (name[i] == IMAP_LIST_DELIM)
			nodes_add(ns, name, i, fl_parent);
}

/* INBOX first, then by name (octets). */
static int
node_cmp(const void *a, const void *b)
{
	const struct list_node	*x = a, *y = b;
	bool			 xi = strcmp(x->name, "INBOX") == 0;
	bool			 yi = strcmp(y->name, "INBOX") == 0;

	if (xi || yi)
		return xi && yi ? 0 : xi ? -1 : 1;
	return strcmp(x->name, y->name);
}

static struct list_node *
node_find(struct list_nodes *ns, const char *name, size_t len)
{
	struct list_node	key = { NULL, 0, 0 };
	char			*n = xstrndup(name, len);
	struct list_node	*r;

	key.name = n;
	key.len = len;
	r = bsearch(&key, ns->v, ns->n, sizeof(*ns->v), node_cmp);
	free(n);
	return r;
}

/* Sort, merge equal names, then the children facts. */
static void
nodes_finish(struct list_nodes *ns)
{
	struct list_node	*p;
	size_t			 i, o, j;

	if (ns->n == 0)
		return;
	qsort(ns->v, ns->n, sizeof(*ns->v), node_cmp);
	for (i = 1, o = 0; i < ns->n; i++) {
		if (node_cmp(&ns->v[o], &ns->v[i]) == 0) {
			ns->v[o].fl |= ns->v[i].fl;
			free(ns->v[i].name);
		} else
			ns->v[++o] = ns->v[i];
	}
	ns->n = o + 1;
	for (i = 0; i < ns->n; i++) {
		for (j = ns->v[i].len; j > 0; j--) {
			if (ns->v[i].name[j - 1] != IMAP_LIST_DELIM)
				continue;
			p = node_find(ns, ns->v[i].name, j - 1);
			if (p == NULL)
				continue;
			/* RFC 3348: children are mailboxes that exist (or
			 * levels holding some), not mere subscriptions. */
			if (ns->v[i].fl & (N_EXISTS | N_PARENT))
				p->fl |= N_HASCHILD;
		}
	}
}

/*
 * RECURSIVEMATCH (RFC 5258 §3.1, §3.5): mark the levels above every
 * subscribed name that no pattern matches, so that they are given with
 * CHILDINFO in its place.
 */
static void
nodes_childsub(struct list_nodes *ns)
{
	struct list_node	*p;
	size_t			 i, j;

	for (i = 0; i < ns->n; i++) {
		if ((ns->v[i].fl & (N_SUBSCRIBED | N_MATCH)) != N_SUBSCRIBED)
			continue;
		for (j = ns->v[i].len; j > 0; j--)
			if (ns->v[i].name[j - 1] == IMAP_LIST_DELIM &&
			    (p = node_find(ns, ns->v[i].name, j - 1)) != NULL)
				p->fl |= N_CHILDSUB;
	}
}

/* Does the node match any of the patterns (reference prepended)? */
static bool
node_matches(char **pats, size_t npats, const struct list_node *nd)
{
	size_t	 i, plen;
	bool	 r = false;

	for (i = 0; i < npats && !r; i++) {
		plen = strlen(pats[i]);
		if (strcmp(nd->name, "INBOX") == 0)
			/* INBOX matches without case (RFC 9051 §5.1). */
			r = (plen >= 5 && strncasecmp(pats[i], "INBOX", 5) ==
			    0 && imap_mbox_match(pats[i] + 5, plen - 5, "",
			    0)) || imap_mbox_match(pats[i], plen, "INBOX", 5);
		else
			r = imap_mbox_match(pats[i], plen, nd->name, nd->len);
	}
	return r;
}

void
imap_list_run(const struct imap_cmd *c, const struct imap_list_in *in,
    struct imap_list_entry **out, size_t *n_out)
{
	struct list_nodes	 ns;
	struct list_node	*nd;
	struct imap_list_entry	*v;
	const char		*use;
	char			*pats[IMAP_LIST_PATTERNS_MAX];
	size_t			 i, n = 0, npats = 0;
	bool			 bysub, recursive, byuse;
	unsigned		 a;

	memset(&ns, 0, sizeof(ns));
	nodes_add(&ns, "INBOX", 5, N_EXISTS);
	for (i = 0; i < in->nfolders; i++)
		nodes_add_path(&ns, in->folders[i], N_EXISTS, N_PARENT);
	for (i = 0; i < in->nsubs; i++)
		nodes_add_path(&ns, strcasecmp(in->subs[i], "INBOX") == 0 ?
		    "INBOX" : in->subs[i], N_SUBSCRIBED, 0);
	nodes_finish(&ns);

	bysub = c->name == IMAP_CMD_LSUB ||
	    (c->list_sel & IMAP_LIST_SEL_SUBSCRIBED);
	recursive = (c->list_sel & IMAP_LIST_SEL_RECURSIVEMATCH) != 0;
	byuse = (c->list_sel & IMAP_LIST_SEL_SPECIALUSE) != 0;
	for (npats = 0; npats < c->nlist_pat &&
	    npats < IMAP_LIST_PATTERNS_MAX; npats++)
		pats[npats] = xasprintf("%.*s%.*s", (int)c->mailbox.len,
		    c->mailbox.ptr, (int)c->list_pat[npats].len,
		    c->list_pat[npats].ptr);
	for (i = 0; i < ns.n; i++)
		if (node_matches(pats, npats, &ns.v[i]))
			ns.v[i].fl |= N_MATCH;
	for (i = 0; i < npats; i++)
		free(pats[i]);
	if (recursive)
		nodes_childsub(&ns);
	v = xcalloc(ns.n + 1, sizeof(*v));
	for (i = 0; i < ns.n; i++) {
		nd = &ns.v[i];
		if (!(nd->fl & N_MATCH))
			continue;
		if (bysub) {
			/* RFC 5258 §3.1: subscribed names, and with
			 * RECURSIVEMATCH the levels above them. */
			if (!(nd->fl & N_SUBSCRIBED) &&
			    !(recursive && (nd->fl & N_CHILDSUB)))
				continue;
		} else if (!(nd->fl & (N_EXISTS | N_PARENT)))
			continue;
		use = (nd->fl & N_EXISTS) && in->use != NULL ?
		    in->use(in->arg, nd->name) : NULL;
		if (byuse && use == NULL)
			continue;
		a = 0;
		if (!(nd->fl & (N_EXISTS | N_PARENT)))
			a |= IMAP_LIST_A_NONEXISTENT;
		else if (!(nd->fl & N_EXISTS))
			a |= IMAP_LIST_A_NOSELECT;
		if (nd->fl & N_SUBSCRIBED)
			a |= IMAP_LIST_A_SUBSCRIBED;
		a |= nd->fl & N_HASCHILD ? IMAP_LIST_A_HASCHILDREN :
		    IMAP_LIST_A_HASNOCHILDREN;
		if (recursive && (nd->fl & N_CHILDSUB))
			a |= IMAP_LIST_A_CHILDINFO;
		v[n].name = nd->name;
		nd->name = NULL;
		v[n].attrs = a;
		v[n].use = use != NULL ? xstrdup(use) : NULL;
		n++;
	}
	for (i = 0; i < ns.n; i++)
		free(ns.v[i].name);
	free(ns.v);
	*out = v;
	*n_out = n;
}

void
imap_list_free(struct imap_list_entry *v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].use);
	}
	free(v);
}

static void
attr_add(struct buf *out, const char *a)
{
	if (out->len > 0 && out->data[out->len - 1] != '(')
		(void)buf_append_char(out, ' ');
	(void)buf_append_str(out, a);
}

void
imap_list_attrs(const struct imap_cmd *c, const struct imap_list_entry *e,
    struct buf *out)
{
	bool	basic = !c->list_ext;

	(void)buf_append_char(out, '(');
	/* RFC 5258 §3.4: \NonExistent implies \Noselect. */
	if (e->attrs & IMAP_LIST_A_NONEXISTENT)
		attr_add(out, "\\NonExistent");
	else if (e->attrs & IMAP_LIST_A_NOSELECT)
		/* A level without a folder: Dovecot's answers for
		 * Maildir++ (the basic form as RFC 3501 has it). */
		attr_add(out, basic ? "\\Noselect" : "\\NonExistent");
	if ((e->attrs & IMAP_LIST_A_SUBSCRIBED) &&
	    (c->list_sel & IMAP_LIST_SEL_SUBSCRIBED ||
	    c->list_ret & IMAP_LIST_RET_SUBSCRIBED))
		attr_add(out, "\\Subscribed");
	if (basic || (c->list_ret & IMAP_LIST_RET_CHILDREN))
		attr_add(out, e->attrs & IMAP_LIST_A_HASCHILDREN ?
		    "\\HasChildren" : "\\HasNoChildren");
	if (e->use != NULL && (basic || (c->list_ret &
	    IMAP_LIST_RET_SPECIALUSE) || (c->list_sel &
	    IMAP_LIST_SEL_SPECIALUSE)))
		attr_add(out, e->use);
	(void)buf_append_char(out, ')');
}
