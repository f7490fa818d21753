/*
 * proc: the table of roles (name, user, chroot, entry point), which pairs
 * of roles may talk, and the life of a role process: receiving its config,
 * sockets and channels from the parent, dropping privileges, dispatching
 * messages.  Every role is a fresh exec of cachetd (`cachetd -X ROLE`)
 * holding only descriptor 3, its channel to the parent.
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

enum proc_id {
	PROC_PARENT,
	PROC_SMTP,
	PROC_LOOKUP,
	PROC_QUEUE,
	PROC_MDA,
	PROC_MTA,
	PROC_IMAP,
	PROC_POP3,
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

struct proc_info {
	enum proc_id	 id;
	const char	*name;
	const char	*user_suffix;	/* appended to conf->user */
	enum proc_dir	 dir;
	/* Listener kinds handed to this role (bit per conf_listen_kind). */
	unsigned	 listen_mask;
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
	struct ipc_chan		*peer[PROC_COUNT];	/* [PROC_PARENT] too */
	int			*listen_fds;	/* per conf->listens, -1 */
	int			 submit_fd;	/* cachet-sendmail socket */
	char			 dir_path[CONF_PATH_MAX];
	/* Role handlers: a message from a peer, a peer came or went. */
	void			(*dispatch)(struct proc_self *, enum proc_id,
				    struct msg *);
	void			(*peer_up)(struct proc_self *, enum proc_id);
	void			(*peer_down)(struct proc_self *, enum proc_id);
	void			*role;
};

extern const struct proc_info	proc_table[PROC_COUNT];

const struct proc_info	*proc_by_name(const char *);
const char		*proc_name(enum proc_id);
/* True when roles a and b have a channel (parent talks to all). */
bool			 proc_may_talk(enum proc_id, enum proc_id);
/* The user a role runs as when started as root ("_cachet" + suffix). */
void			 proc_user(const struct conf *, enum proc_id,
			    char *out, size_t outsz);
/* The directory of a role, absolute. */
void			 proc_dir_path(const struct conf *, enum proc_id,
			    char *out, size_t outsz);

/* The certificate and key in use: configured, or the self-signed pair. */
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
/* Send to a peer, dropping the message (logged) if it is not there. */
int	proc_send(struct proc_self *, enum proc_id, struct msg *);

/* Role entry points, in their files. */
void	smtp_main(struct proc_self *);
void	lookup_main(struct proc_self *);
void	queue_main(struct proc_self *);
void	mda_main(struct proc_self *);
void	mta_main(struct proc_self *);
void	imap_main(struct proc_self *);
void	pop3_main(struct proc_self *);

#endif
