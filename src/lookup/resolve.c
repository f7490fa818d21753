/*
 * resolve: from one recipient address to its destinations (local
 * mailboxes, remote addresses, failed branches), by the rules listed in
 * resolve.h.  Run by the lookup role in its event-loop thread, on that
 * thread's database connection.
 *
 * Every address is put in canonical form by users.c (which refuses what
 * is not a plain dot-atom address of bounded length) before it reaches a
 * query.  The work for one address is bounded three ways: the depth of
 * alias nesting, the number of destinations, and the number of addresses
 * looked at, so that an alias graph cannot make one RCPT expensive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "resolve.h"
#include "users.h"
#include "util.h"

struct resolve_run {
	struct users		*db;
	const struct conf	*conf;
	struct resolve_result	*out;
	size_t			 steps;
	bool			 stop;	/* tempfail: nothing more to do */
	bool			 full;	/* RESOLVE_DESTS_MAX reached */
	/* the aliases being expanded, outermost first, canonical */
	char		 path[RESOLVE_DEPTH_MAX + 1][MAILBOX_ADDR_MAX + 1];
	size_t			 depth;
};

/* The targets of one alias source, copied out of the listing. */
struct resolve_targets {
	const char	*want;		/* the source as asked, for case */
	bool		 exact_case;
	char		**v;
	size_t		 n;
};

static void	resolve_one(struct resolve_run *, const char *addr,
		    const char *tag, bool final, bool user_only);

bool
resolve_local_is(const char *addr, const char *name)
{
	const char	*at = strchr(addr, '@');
	size_t		 len = at != NULL ? (size_t)(at - addr) : strlen(addr);

	return strlen(name) == len && strncasecmp(addr, name, len) == 0;
}

static void
resolve_tempfail(struct resolve_run *run, const char *what, const char *err)
{
	if (run->stop)
		return;
	run->stop = true;
	run->out->status = RESOLVE_TEMPFAIL;
	(void)snprintf(run->out->err, sizeof(run->out->err), "%s: %s", what,
	    err != NULL ? err : "failed");
}

/*
 * Add a destination; the same local delivery or remote address twice is
 * kept once (an alias fan-out that reaches one user by two paths).
 */
static struct resolve_dest *
resolve_add(struct resolve_run *run, enum resolve_kind kind,
    const char *addr)
{
	struct resolve_result	*out = run->out;
	struct resolve_dest	*d;
	size_t			 i;

	if (kind != RESOLVE_FAILED)
		for (i = 0; i < out->ndests; i++)
			if (out->dests[i].kind == kind &&
			    strcasecmp(out->dests[i].addr, addr) == 0)
				return NULL;
	/* One slot past the limit is kept for the failure that says so. */
	if (out->ndests >= RESOLVE_DESTS_MAX && !(kind == RESOLVE_FAILED &&
	    run->full && out->ndests == RESOLVE_DESTS_MAX)) {
		run->full = true;
		return NULL;
	}
	if (out->dests == NULL)
		out->dests = xcalloc(RESOLVE_DESTS_MAX + 1,
		    sizeof(*out->dests));
	d = &out->dests[out->ndests++];
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->quota = -1;
	(void)str_copy(d->addr, sizeof(d->addr), addr);
	return d;
}

static void
resolve_fail(struct resolve_run *run, const char *addr, const char *enh,
    const char *text)
{
	struct resolve_dest	*d;

	if ((d = resolve_add(run, RESOLVE_FAILED, addr)) != NULL) {
		d->enh = enh;
		d->text = text;
	}
}

/* Is the local part of a (as stored) the local part of b, byte for byte? */
static bool
resolve_same_local(const char *a, const char *b)
{
	const char	*ea = strchr(a, '@'), *eb = strchr(b, '@');

	return ea != NULL && eb != NULL && ea - a == eb - b &&
	    memcmp(a, b, (size_t)(ea - a)) == 0;
}

static int
resolve_target_cb(const char *source, const char *target, void *arg)
{
	struct resolve_targets	*t = arg;

	/* local-part-case sensitive: only the source as spelt matches. */
	if (t->exact_case && t->want[0] != '@' &&
	    !resolve_same_local(source, t->want))
		return 0;
	/* Bounded by the store; the steps budget bounds what we use. */
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n++] = xstrdup(target);
	return 0;
}

static void
resolve_targets_free(struct resolve_targets *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/*
 * Expand the alias source (an address, or "@domain") whose canonical
 * address is canon: resolve each target one level deeper.  Returns true
 * when the source had targets.
 */
/* NOLINTBEGIN(misc-no-recursion): RESOLVE_DEPTH_MAX deep at most */
static bool
resolve_alias(struct resolve_run *run, const char *source, const char *canon)
{
	struct resolve_targets	 t;
	const char		*err = NULL;
	size_t			 i;

	memset(&t, 0, sizeof(t));
	t.want = source;
	t.exact_case = run->conf->delivery.case_sensitive;
	if (users_alias_list(run->db, source, resolve_target_cb, &t,
	    &err) == -1) {
		resolve_targets_free(&t);
		resolve_tempfail(run, "aliases", err);
		return true;
	}
	if (t.n == 0)
		return false;
	if (run->depth >= RESOLVE_DEPTH_MAX) {
		resolve_targets_free(&t);
		resolve_fail(run, canon, "5.4.6", "Aliases nested too deep");
		return true;
	}
	(void)str_copy(run->path[run->depth], sizeof(run->path[0]), canon);
	run->depth++;
	for (i = 0; i < t.n && !run->stop && !run->full; i++)
		resolve_one(run, t.v[i], NULL, false,
		    strcasecmp(t.v[i], canon) == 0);
	run->depth--;
	resolve_targets_free(&t);
	return true;
}
/* NOLINTEND(misc-no-recursion) */

/*
 * A user: rule 2.  With a tag, the address delivered to is the user's
 * as stored with the tag put back before the '@'.
 */
static bool
resolve_user(struct resolve_run *run, const char *canon, const char *tag)
{
	struct users_user_rec	 rec;
	struct resolve_dest	*d;
	const char		*err = NULL, *at;
	char			 addr[MAILBOX_ADDR_MAX + 1];
	bool			 found = false;
	int			 n;

	if (users_user_get(run->db, canon, &rec, &found, &err) == -1) {
		resolve_tempfail(run, "users", err);
		return true;
	}
	if (!found || (run->conf->delivery.case_sensitive &&
	    !resolve_same_local(rec.address, canon)))
		return false;
	(void)str_copy(addr, sizeof(addr), rec.address);
	if (tag != NULL) {
		at = strchr(rec.address, '@');
		n = snprintf(addr, sizeof(addr), "%.*s%s%s",
		    (int)(at - rec.address), rec.address, tag, at);
		if (n < 0 || (size_t)n >= sizeof(addr))
			(void)str_copy(addr, sizeof(addr), rec.address);
	}
	if ((d = resolve_add(run, RESOLVE_LOCAL, addr)) == NULL)
		return true;
	(void)str_copy(d->owner, sizeof(d->owner), rec.address);
	d->format = rec.format;
	d->quota = rec.quota;
	if (mailbox_path(rec.address, rec.format, d->mailbox,
	    sizeof(d->mailbox)) == -1) {
		/* users.c stored it, so it is valid: a broken row. */
		run->out->ndests--;
		resolve_tempfail(run, "mailbox", rec.address);
	}
	return true;
}

/* Is domain one of ours?  -1 when the store failed. */
static int
resolve_is_local(struct resolve_run *run, const char *domain, bool *local)
{
	const char	*err = NULL;

	*local = false;
	if (conf_is_local_domain(run->conf, domain)) {
		*local = true;
		return 0;
	}
	if (users_domain_exists(run->db, domain, local, &err) == -1) {
		resolve_tempfail(run, "domains", err);
		return -1;
	}
	return 0;
}

/*
 * addr is not a dot-atom address of ours: when its domain (after the last
 * '@', compared in lower case) is not one of ours, it is a remote
 * destination as it is.  True when it was taken so.
 */
static bool
resolve_foreign(struct resolve_run *run, const char *addr)
{
	char		 domain[MAILBOX_DOMAIN_MAX + 1];
	const char	*at;
	size_t		 i, len;
	bool		 local;

	if ((at = strrchr(addr, '@')) == NULL ||
	    (len = strnlen(at + 1, sizeof(domain))) == 0 ||
	    len >= sizeof(domain))
		return false;
	for (i = 0; i < len; i++)
		domain[i] = (at[1 + i] >= 'A' && at[1 + i] <= 'Z') ?
		    (char)(at[1 + i] + 32) : at[1 + i];
	domain[len] = '\0';
	if (resolve_is_local(run, domain, &local) == -1)
		return true;	/* a tempfail is recorded */
	if (local)
		return false;
	(void)resolve_add(run, RESOLVE_REMOTE, addr);
	return true;
}

/*
 * Where postmaster@ and abuse@ go when no alias or user of that name
 * exists: rule 3.  "" when nowhere yet.
 */
static int
resolve_postmaster(struct resolve_run *run, char *out, size_t outsz)
{
	struct users_user_rec	 rec;
	struct resolve_targets	 t;
	const char		*err = NULL;
	char			 first[MAILBOX_ADDR_MAX + 1];
	bool			 found = false;

	out[0] = '\0';
	if (run->conf->delivery.postmaster[0] != '\0')
		return str_copy(out, outsz, run->conf->delivery.postmaster);
	if (run->conf->ndomains > 0) {
		(void)snprintf(first, sizeof(first), "postmaster@%s",
		    run->conf->domains[0]);
		if (users_user_get(run->db, first, &rec, &found, &err) == -1)
			goto fail;
		memset(&t, 0, sizeof(t));
		t.want = first;
		if (!found && users_alias_list(run->db, first,
		    resolve_target_cb, &t, &err) == -1)
			goto fail;
		found = found || t.n > 0;
		resolve_targets_free(&t);
		if (found)
			return str_copy(out, outsz, first);
	}
	if (users_first_user(run->db, first, &found, &err) == -1)
		goto fail;
	if (found)
		return str_copy(out, outsz, first);
	return 0;
fail:
	resolve_tempfail(run, "postmaster", err);
	return -1;
}

/*
 * Resolve one address at the current depth.  tag, when not NULL, is the
 * "+tag" part that rule 4 cut off the address the caller was given.
 * final: rules 2 and 4 only.  user_only: rule 2 only (an alias target
 * that names the alias itself).
 */
/* NOLINTBEGIN(misc-no-recursion): RESOLVE_DEPTH_MAX deep at most */
static void
resolve_one(struct resolve_run *run, const char *addr, const char *tag,
    bool final, bool user_only)
{
	const struct conf	*conf = run->conf;
	char			 canon[MAILBOX_ADDR_MAX + 1];
	char			 base[MAILBOX_ADDR_MAX + 1];
	char			 source[MAILBOX_DOMAIN_MAX + 2];
	char			 pm[MAILBOX_ADDR_MAX + 1];
	const char		*at, *domain;
	size_t			 i, llen, cut;
	bool			 local;

	if (run->stop || run->full)
		return;
	if (++run->steps > RESOLVE_STEPS_MAX) {
		run->full = true;
		return;
	}
	/* <Postmaster> with no domain (RFC 5321 §4.1.1.3). */
	if (strchr(addr, '@') == NULL && strcasecmp(addr, "postmaster") == 0 &&
	    conf->ndomains > 0) {
		(void)snprintf(canon, sizeof(canon), "postmaster@%s",
		    conf->domains[0]);
		resolve_one(run, canon, tag, final, user_only);
		return;
	}
	if (mailbox_addr_normalize(addr, canon, sizeof(canon), NULL) == -1) {
		/*
		 * An address no user of ours can have (a quoted or UTF-8
		 * local part, RFC 5321 §4.1.2, RFC 6531 §3.3) at another
		 * domain is not ours to judge: it goes out as it was given.
		 */
		if (run->depth == 0 && resolve_foreign(run, addr))
			return;
		/* Only an alias target can get here: it was checked once. */
		if (run->depth > 0)
			resolve_fail(run, addr, "5.1.3", "Bad destination "
			    "address syntax");
		return;
	}
	at = strchr(canon, '@');
	domain = at + 1;
	llen = (size_t)(at - canon);
	if (resolve_is_local(run, domain, &local) == -1)
		return;
	if (!local) {
		(void)resolve_add(run, RESOLVE_REMOTE, canon);
		return;
	}
	for (i = 0; i < run->depth; i++)
		if (strcasecmp(run->path[i], canon) == 0 &&
		    !(user_only && i == run->depth - 1)) {
			resolve_fail(run, canon, "5.4.6", "Alias loop");
			return;
		}
	/* 1: an alias, unless this address is a final one already. */
	if (!final && !user_only && resolve_alias(run, canon, canon))
		return;
	/* 2: a user. */
	if (resolve_user(run, canon, tag) || run->stop)
		return;
	if (user_only) {
		/* "a -> a" where a is no user: nowhere to go. */
		resolve_fail(run, canon, "5.4.6", "Alias loop");
		return;
	}
	/* 3: postmaster@ and abuse@ of every domain of ours. */
	if (!final && (resolve_local_is(canon, "postmaster") ||
	    resolve_local_is(canon, "abuse"))) {
		if (resolve_postmaster(run, pm, sizeof(pm)) == -1)
			return;
		if (run->depth >= RESOLVE_DEPTH_MAX) {
			resolve_fail(run, canon, "5.4.6",
			    "Aliases nested too deep");
			return;
		}
		if (pm[0] == '\0') {
			resolve_tempfail(run, "postmaster", "no postmaster "
			    "mailbox: set the postmaster directive or add a "
			    "user");
			return;
		}
		(void)str_copy(run->path[run->depth], sizeof(run->path[0]),
		    canon);
		run->depth++;
		resolve_one(run, pm, NULL, false, false);
		run->depth--;
		return;
	}
	/* 4: user+tag@, by the first delimiter after the first character. */
	cut = llen;
	for (i = 1; i < llen; i++)
		if (conf->delivery.delimiters[0] != '\0' &&
		    strchr(conf->delivery.delimiters, canon[i]) != NULL) {
			cut = i;
			break;
		}
	if (cut < llen && tag == NULL) {
		(void)snprintf(base, sizeof(base), "%.*s%s", (int)cut, canon,
		    at);
		(void)snprintf(pm, sizeof(pm), "%.*s", (int)(llen - cut),
		    canon + cut);
		resolve_one(run, base, pm, final, false);
		return;
	}
	/* 5: the domain's catch-all. */
	(void)snprintf(source, sizeof(source), "@%s", domain);
	if (!final && resolve_alias(run, source, canon))
		return;
	/* 6: unknown.  At the top, the caller says so; deeper, a branch. */
	if (run->depth > 0)
		resolve_fail(run, canon, "5.1.1", "User unknown");
}
/* NOLINTEND(misc-no-recursion) */

int
resolve_address(struct users *db, const struct conf *conf, const char *addr,
    unsigned flags, struct resolve_result *out)
{
	struct resolve_run	*run;

	memset(out, 0, sizeof(*out));
	if (strnlen(addr, MAILBOX_ADDR_MAX + 1) > MAILBOX_ADDR_MAX)
		return -1;
	run = xcalloc(1, sizeof(*run));
	run->db = db;
	run->conf = conf;
	run->out = out;
	resolve_one(run, addr, NULL, (flags & RESOLVE_F_FINAL) != 0, false);
	if (run->full && !run->stop)
		resolve_fail(run, addr, "5.2.4", "Alias expands to too many "
		    "addresses");
	free(run);
	if (out->status == RESOLVE_TEMPFAIL) {
		free(out->dests);
		out->dests = NULL;
		out->ndests = 0;
		return 0;
	}
	out->status = out->ndests > 0 ? RESOLVE_OK : RESOLVE_UNKNOWN;
	return 0;
}

void
resolve_result_free(struct resolve_result *r)
{
	if (r == NULL)
		return;
	free(r->dests);
	memset(r, 0, sizeof(*r));
}
