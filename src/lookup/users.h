/*
 * users: the SQLite store of our domains, users (password hashes) and
 * aliases in state-dir.  Only the lookup role (the one holder of secrets)
 * and cachetctl open it.
 *
 * A struct users is one SQLite connection with its prepared statements; it
 * must be used by one thread at a time.  A thread that hashes passwords
 * (the lookup role's worker pool) opens its own.  Nothing is cached across
 * calls, so changes made through another connection (cachetctl, another
 * thread) are seen by the next call.
 *
 * Addresses are "local@domain": the local part is an RFC 5322 dot-atom of
 * ASCII characters, compared case-insensitively; the domain is a host name
 * of letter-digit-hyphen labels and is stored lower-cased.  Quoted local
 * parts, address literals and non-ASCII addresses are refused.
 *
 * Every function that can fail returns 0 or -1 and then sets *errstr_out
 * to a message that stays valid until the next call on the same handle
 * (or, for users_open() and users_hash_password(), in the same thread).
 * errstr_out may be NULL.  Passwords never appear in a message.
 */
#ifndef CACHET_USERS_H
#define CACHET_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox.h"

/* The database's file name in lookup's directory (state-dir/lookup). */
#define USERS_DB_NAME		"cachet.db"
/* Longest password we hash (libxcrypt refuses longer ones). */
#define USERS_PASSWORD_MAX	511
/* Room for any crypt(3) hash, NUL included (libxcrypt's output size). */
#define USERS_HASH_SIZE		384
/*
 * SCRAM-SHA-256 keys made when a password is set.  2^16 PBKDF2 rounds:
 * 16 times RFC 7677 §4's floor of 4096, and about the time of one
 * yescrypt hash of libxcrypt's default cost on our machines (20-30 ms),
 * so the keys beside the hash cost a guesser as much CPU per guess as
 * the hash does (not as much memory: PBKDF2 is not memory-hard, the
 * price of a mechanism every client can compute).  Every client pays it
 * once per login; GNU SASL's own default is the same.
 */
#define USERS_SCRAM_ITERATIONS	65536
#define USERS_SCRAM_SALT_LEN	16	/* SP 800-132 §5.1: 128 bits */

struct users;

enum users_auth {
	USERS_AUTH_OK,		/* user exists and the password is right */
	USERS_AUTH_FAIL,	/* wrong password, unknown or invalid user */
	USERS_AUTH_TEMPFAIL,	/* storage or hashing failed: try later */
};

/* A user's delivery settings, as users_user_get() finds them. */
struct users_user_rec {
	char			address[MAILBOX_ADDR_MAX + 1];	/* as stored */
	int64_t			quota;		/* bytes, -1 when none */
	enum mailbox_format	format;
	bool			scram;		/* has SCRAM keys */
};

/* One row of users_user_list(); pointers are valid during the callback. */
struct users_user_info {
	const char	*address;
	int64_t		 created;	/* seconds since the epoch */
	int64_t		 quota;		/* bytes, or -1 when there is none */
	const char	*mailbox_format;	/* "maildir" unless changed */
	bool		 scram;		/* has SCRAM keys */
};

/*
 * Open the database at path.  With create, the file is made (mode 0600,
 * since it holds password hashes) when missing; without, a missing file
 * is an error.  The schema is created when missing, a version 1 file
 * gains the SCRAM columns (its users keep their hashes and have no keys
 * until their next password change), and a schema newer than this program
 * is refused.  Returns NULL on failure.
 */
struct users	*users_open(const char *path, bool create,
		    const char **errstr_out);

/* Finalise the statements and close the connection; NULL is a no-op. */
void	users_close(struct users *);

/* Domains.  add fails if it exists; del fails if users remain in it and
 * removes the aliases whose source is in it. */
int	users_domain_add(struct users *, const char *domain,
	    const char **errstr_out);
int	users_domain_del(struct users *, const char *domain,
	    const char **errstr_out);
/* *exists_out tells whether domain is one of ours (an invalid name is not). */
int	users_domain_exists(struct users *, const char *domain,
	    bool *exists_out, const char **errstr_out);
/*
 * Call cb for each domain in name order.  A non-zero return from cb stops
 * the listing and makes the call return -1.  cb must not call users_*
 * on the same handle.
 */
int	users_domain_list(struct users *,
	    int (*cb)(const char *domain, void *arg), void *arg,
	    const char **errstr_out);

/*
 * Users.  add hashes password (users_hash_password), derives its SCRAM
 * keys when users_scram_password_ok(), and fails when the user exists or
 * the domain is not ours.  passwd replaces the hash and the keys (a
 * password that cannot have keys clears them).  del leaves aliases that
 * point at the user alone.
 */
int	users_user_add(struct users *, const char *addr, const char *password,
	    const char **errstr_out);
int	users_user_del(struct users *, const char *addr,
	    const char **errstr_out);
int	users_user_passwd(struct users *, const char *addr,
	    const char *password, const char **errstr_out);
int	users_user_exists(struct users *, const char *addr, bool *exists_out,
	    const char **errstr_out);
/*
 * Find a user, case-insensitively (the address as stored comes back in
 * out->address, for callers that compare case).  *found_out is false for
 * an unknown or invalid address; -1 only when the store failed.
 */
int	users_user_get(struct users *, const char *addr,
	    struct users_user_rec *out, bool *found_out,
	    const char **errstr_out);
/* Set or clear (quota -1) a user's quota in bytes; "no such user". */
int	users_user_set_quota(struct users *, const char *addr, int64_t quota,
	    const char **errstr_out);
int	users_user_set_format(struct users *, const char *addr,
	    enum mailbox_format format, const char **errstr_out);


/*
 * The first user in address order into out (MAILBOX_ADDR_MAX + 1 bytes);
 * *found_out false when there is none.
 */
int	users_first_user(struct users *, char *out, bool *found_out,
	    const char **errstr_out);

/* As users_domain_list, in address order. */
int	users_user_list(struct users *,
	    int (*cb)(const struct users_user_info *info, void *arg),
	    void *arg, const char **errstr_out);

/*
 * Hash pass with a fresh salt: yescrypt ("$y$") at libxcrypt's default
 * cost.  out must hold USERS_HASH_SIZE bytes.  Takes tens of
 * milliseconds by design: call it from a worker thread, not an event loop.
 */
int	users_hash_password(const char *pass, char *out, size_t outsz,
	    const char **errstr_out);

/*
 * Check a password.  An unknown or invalid user costs one hash as a known
 * one does, so the answer's timing does not tell which users exist.  Slow
 * like users_hash_password().  A stored hash of any crypt(3) method
 * libxcrypt knows is accepted.
 */
enum users_auth	users_check_password(struct users *, const char *addr,
		    const char *pass);

/*
 * SCRAM-SHA-256 (RFC 5802, RFC 7677).  Keys are made only from passwords
 * of printable ASCII, which SASLprep (RFC 4013) leaves as they are; other
 * passwords serve PLAIN and LOGIN only.
 */
bool	users_scram_password_ok(const char *password);
/*
 * The salt (into salt_out, SASL_SCRAM_SALT_MAX octets) and iteration
 * count of addr's keys.  A name without keys (unknown, or set before
 * keys existed) gets a salt made up from the name and a secret of the
 * database, the same at every call and after restarts, and the default
 * count, so the answer does not tell whether the user exists.  -1 only
 * when the store failed (the outputs are the made-up ones then).
 */
int	users_scram_salt(struct users *, const char *addr,
	    unsigned char *salt_out, size_t *saltlen_out,
	    uint32_t *iterations_out, const char **errstr_out);
/*
 * Check a SCRAM ClientProof over the AuthMessage with addr's StoredKey;
 * on OK sig_out is the ServerSignature, otherwise zeros.  A user without
 * keys fails after the same work.
 */
enum users_auth	users_check_scram(struct users *, const char *addr,
		    const char *authmsg, size_t len,
		    const unsigned char *proof, unsigned char *sig_out);

/*
 * Aliases: mail to source (an address in one of our domains) goes to
 * target (any address).  A source may have several targets.  A source of
 * the form "@domain" is the domain's catch-all: it takes the mail for
 * addresses of that domain that nothing else takes (see lookup's
 * resolution).  Listing by source "@domain" gives the catch-all's
 * targets; by "local@domain", only that exact source's.
 */
int	users_alias_add(struct users *, const char *source, const char *target,
	    const char **errstr_out);
/*
 * Add the n targets of source in one transaction: all of them or, on
 * the first that fails (a bad address, an alias that exists, a target
 * named twice, a failed write), none; then *bad_out is its index (n when
 * the commit failed).
 */
int	users_alias_add_list(struct users *, const char *source,
	    char *const *targets, size_t n, size_t *bad_out,
	    const char **errstr_out);
int	users_alias_del(struct users *, const char *source, const char *target,
	    const char **errstr_out);
/*
 * Call cb for each alias whose source is source, or for every alias when
 * source is NULL, ordered by source then target.  As users_domain_list for
 * cb's return value.
 */
int	users_alias_list(struct users *, const char *source,
	    int (*cb)(const char *source, const char *target, void *arg),
	    void *arg, const char **errstr_out);

/*
 * May the authenticated user send with envelope sender from?  Yes when from
 * is user (case-insensitively) or an alias source whose targets include
 * user.  An address that does not parse is simply not allowed; -1 means
 * the store failed (answer 4xx).
 */
int	users_sender_allowed(struct users *, const char *user, const char *from,
	    bool *allowed_out, const char **errstr_out);

/*
 * APOP (RFC 1939 §7, for the pop3 role).  The secret is plaintext-
 * equivalent by design (the server computes the same digest), so it is
 * its own column, apart from the password hash, and off until set.
 * set_apop stores secret (1 to USERS_PASSWORD_MAX octets) for an existing
 * user, or clears it when secret is NULL; "no such user".
 */
int	users_user_set_apop(struct users *, const char *addr,
	    const char *secret, const char **errstr_out);
/*
 * Is digest (32 lower-case hex digits) MD5(timestamp secret) for addr's
 * APOP secret?  A user without one, an unknown user and a malformed
 * argument all fail, after the same work, compared in constant time.
 */
enum users_auth	users_check_apop(struct users *, const char *addr,
		    const char *timestamp, const char *digest);

#endif
