/*
 * ctl_spam: `cachetctl spam ...` (issue 15).  The message files are
 * parsed here, in cachetctl, into their features (lib/spam.h), and only
 * those go to the daemon's lookup role, which judges (`spam check`) or
 * learns them (`spam train`, ctl_spamtrain.c).
 */
#ifndef CACHET_CTL_SPAM_H
#define CACHET_CTL_SPAM_H

struct conf;
struct msg;

/*
 * Send one request and print its answer: the exit code it ended with.
 * Each call makes its own connection.
 */
typedef int (*ctl_exchange_fn)(void *arg, struct msg *m);

/*
 * cachetctl's arg for exchange: the control socket, and where the
 * answer's lines go: printed when lines is NULL, else appended to it
 * (each with its LF), for `spam train` to sum what its batches learnt.
 */
struct buf;
struct ctl_spam_conn {
	const char	*sock;
	struct buf	*lines;
};

/* argv[0] is "spam"; conf may be NULL (-s SOCKET): built-in rules. */
int	ctl_spam(const struct conf *conf, int argc, char **argv,
	    ctl_exchange_fn exchange, void *arg);
/* `spam train spam|ham PATH...` and `spam stats [USER]`. */
int	ctl_spamtrain(const struct conf *conf, int argc, char **argv,
	    ctl_exchange_fn exchange, void *arg);

#endif
