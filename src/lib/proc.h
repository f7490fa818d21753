/*
 * proc: the table of roles (name, user, chroot, entry point), which pairs
 * of roles may talk, and the life of a role process: receiving its config,
 * sockets and channels from the parent, dropping privileges, dispatching
 * messages.  Every role is a fresh exec of cachetd (`cachetd -X ROLE`)
 * holding only descriptor 3, its channel to the parent.
 *
 * The roles that serve clients (smtp, pop3, imap) may run several worker
 * processes, each a whole role process with its own event loop and its
 * own channels to its siblings, all accepting on the same listening
 * sockets.  A sibling tells them apart by struct proc_peer.
 */
#ifndef CACHET_PROC_H
#define CACHET_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "ipc.h"

#define PROC_PARENT_FD	3
#define PROC_SUBMIT_LISTEN	UINT32_MAX	/* MSG_PARENT_LISTEN index */
#define PROC_WORKERS_MAX	64	/* processes of one role */
#define PROC_WORKERS_AUTO_MAX	8	/* "auto": one per core, at most */

enum proc_id {
	PROC_PARENT,
	PROC_SMTP,
	PROC_LOOKUP,
	PROC_QUEUE,
	PROC_MDA,
	PROC_MTA,
	PROC_IMAP,
	PROC_POP3,
	PROC_HTTP,
	PROC_COUNT
};

/* Where a role is chrooted (root) or chdir'ed (not root). */
enum proc_dir {
	PROC_DIR_EMPTY,		/* state-dir/empty: owns nothing */
	PROC_DIR_LOOKUP,	/* state-dir/lookup: the database */
	PROC_DIR_QUEUE,		/* state-dir/queue: the spool */
	PROC_DIR_MAIL,		/* mail-dir: the mailboxes */
};

struct proc_self;

/*
 * A sibling process: its role and, for a role that runs workers, which
 * worker (0 for every other role).
 */
struct proc_peer {
	enum proc_id	 id;
	unsigned	 worker;
};

struct proc_info {
	enum proc_id	 id;
	const char	*name;
	const char	*user_suffix;	/* appended to conf->user */
	enum proc_dir	 dir;
	/* Listener kinds handed to this role (bit per conf_listen_kind). */
	unsigned	 listen_mask;
	/*
	 * A role that may run several workers: where struct conf keeps
	 * how many (an unsigned, 0 for auto); 0 for a one-process role.
	 */
	size_t		 workers_field;
	/* Role entry: set up, proc_drop(), proc_run().  Never returns. */
	void		(*main)(struct proc_self *);
};

/*
 * The one mutable state of a role process.  Each role keeps its own
 * state in `role` (a struct of its file).
 */
struct proc_self {
	const struct proc_info	*info;
	struct event_base	*base;
	struct conf		*conf;
	/* [role][worker]; [PROC_PARENT][0] too, [X][0] for a lone role */
	struct ipc_chan		*peer[PROC_COUNT][PROC_WORKERS_MAX];
	int			*listen_fds;	/* per conf->listens, -1 */
	int			 submit_fd;	/* cachet-sendmail socket */
	/* Which worker of its role this process is (0 of 1: alone). */
	unsigned		 worker;
	unsigned		 nworkers;
	/* The role's shared connection table (conn_limit.h), or -1. */
	int			 conn_table_fd;
	/*
	 * The TLS chain lookup installed while running, from the parent
	 * (MSG_PARENT_TLS_CHAIN), NUL-terminated; NULL: read the files.
	 */
	char			*tls_chain;
	size_t			 tls_chain_len;
	char			 dir_path[CONF_PATH_MAX];
	/* Role handlers: a message from a peer, a peer came or went. */
	void			(*dispatch)(struct proc_self *,
				    struct proc_peer, struct msg *);
	void			(*peer_up)(struct proc_self *,
				    struct proc_peer);
	void			(*peer_down)(struct proc_self *,
				    struct proc_peer);
	void			*role;
};

extern const struct proc_info	proc_table[PROC_COUNT];

const struct proc_info	*proc_by_name(const char *);
const char		*proc_name(enum proc_id);
/* True when roles a and b have a channel (parent talks to all). */
bool			 proc_may_talk(enum proc_id, enum proc_id);
/*
 * How many processes run a role under conf: 1, or for a role with
 * workers the configured number, "auto" being one per core online
 * (at most PROC_WORKERS_AUTO_MAX).
 */
unsigned		 proc_workers(const struct conf *, enum proc_id);
/*
 * The metrics table (metrics.h) has a slot per process: the parent's,
 * one per worker a role may have (PROC_WORKERS_MAX for a role with
 * workers), one for each other role.  How many, and which is whose.
 */
unsigned		 proc_metrics_slots(void);
unsigned		 proc_metrics_slot(enum proc_id, unsigned worker);
/* The user a role runs as when started as root ("_cachet" + suffix). */
void			 proc_user(const struct conf *, enum proc_id,
			    char *out, size_t outsz);
/*
 * Make the system user name (useradd --system, its own group, no home,
 * no shell) unless it exists; fatal when that fails.  Root only: the
 * parent for each role's user at start, cachetctl quickstart for
 * lookup's, whose files it writes.
 */
void			 proc_ensure_user(const char *name);
/* The directory of a role, absolute. */
void			 proc_dir_path(const struct conf *, enum proc_id,
			    char *out, size_t outsz);

/*
 * The certificate and key in use: configured, ACME's (lookup/acme/, once
 * both are there), or the self-signed pair.
 */
void			 proc_tls_paths(const struct conf *, char *cert,
			    char *key, size_t sz);

/* Child side: exec'd as `cachetd -X name`; receives and runs. */
void	proc_child_main(const char *name, bool foreground, bool verbose)
	    __attribute__((noreturn));
/* chroot + setuid as root, chdir otherwise, to the role's directory. */
void	proc_drop(struct proc_self *);
/*
 * Install the role's sandbox (sandbox.h) unless `sandbox no`, then run
 * the event loop until the parent goes away.
 */
void	proc_run(struct proc_self *) __attribute__((noreturn));
/*
 * Send to a one-process role (or worker 0), dropping the message (logged)
 * if it is not there.
 */
int	proc_send(struct proc_self *, enum proc_id, struct msg *);
/* The same to one peer: the worker a request came from, say. */
int	proc_send_peer(struct proc_self *, struct proc_peer, struct msg *);

/*
 * Answer a cachetctl request the parent forwarded (reqid is the
 * parent's): a line of output (MSG_CTL_LINE), then the end with an exit
 * code and an error ("" or NULL: none) (MSG_CTL_END).
 */
void	proc_ctl_line(struct proc_self *, uint64_t reqid, const char *line);
void	proc_ctl_end(struct proc_self *, uint64_t reqid, uint32_t code,
	    const char *err);

/* Role entry points, in their files. */
void	smtp_main(struct proc_self *);
void	lookup_main(struct proc_self *);
void	queue_main(struct proc_self *);
void	mda_main(struct proc_self *);
void	mta_main(struct proc_self *);
void	imap_main(struct proc_self *);
void	pop3_main(struct proc_self *);
void	http_main(struct proc_self *);

#endif
