/*
 * conf: the configuration file parser and the embedded default.  Run by
 * the parent only; roles inherit the parsed struct at fork and keep what
 * they use.  The format: one directive a line, blocks in braces, `#`
 * comments, double-quoted strings.  Errors read "file:line: message".
 */
#ifndef CACHET_CONF_H
#define CACHET_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnsbl.h"

#define CONF_PATH_MAX		1024
#define CONF_NAME_MAX		255	/* RFC 1035 §2.3.4 */
#define CONF_ERRORS_MAX		64	/* errors kept for one parse */
#define CONF_FILE_MAX		(1024 * 1024)	/* bytes in a config file */
#define CONF_LINE_MAX		4096	/* bytes in one line, LF excluded */
#define CONF_WORDS_MAX		32	/* words in a directive and its block */
#define CONF_LISTENS_MAX	256
#define CONF_DOMAINS_MAX	256
#define CONF_ARC_TRUSTED_MAX	64	/* arc-trusted-sealer directives */
#define CONF_RELAYS_MAX		256
#define CONF_ADDR_MAX		320	/* local@domain: RFC 5321 §4.5.3.1 */
#define CONF_DELIMS_MAX		8	/* recipient-delimiter characters */
#define CONF_CIPHERS_MAX	2048	/* a cipher list (TLS_CIPHERS_MAX) */
#define CONF_WORKERS_MAX	64	/* smtp-workers and the like */
#define CONF_STS_MX_MAX		16	/* mx patterns of mta-sts-policy */
#define CONF_STS_MAX_AGE_MAX	31557600	/* RFC 8461 §3.2: a year */
#define CONF_STS_MAX_AGE_DEFAULT	604800	/* a week */
#define CONF_RUA_MAX		200	/* tlsrpt-rua, in one TXT string */
#define CONF_URL_MAX		512	/* tls { acme URL } */
/* spam-junk and spam-reject, in milli-points (lib/spam.h SPAM_MILLI) */
#define CONF_SPAM_JUNK_DEFAULT		5000
#define CONF_SPAM_REJECT_DEFAULT	15000
#define CONF_SPAM_SCORE_MAX		1000000	/* 1000 points */
#define CONF_SPAM_NEVER			INT32_MAX	/* spam-reject none */
#define CONF_BAYES_MAX_TOKENS	500000	/* spam-bayes-max-tokens default */
#define CONF_DNSBLS_MAX		16	/* dnsbl and dnswl directives */
#define CONF_DNSBL_WEIGHT_MAX	100	/* points of one list */
#define CONF_DNSBL_TIMEOUT_DEFAULT	2	/* seconds */

enum conf_listen_kind {
	CONF_LISTEN_SMTP,
	CONF_LISTEN_SUBMISSION,
	CONF_LISTEN_SUBMISSIONS,
	CONF_LISTEN_IMAP,
	CONF_LISTEN_IMAPS,
	CONF_LISTEN_POP3,
	CONF_LISTEN_POP3S,
	CONF_LISTEN_HTTPS,	/* the http role: our MTA-STS policy */
	CONF_LISTEN_HTTP,	/* the http role, plain: ACME http-01 */
	CONF_LISTEN_METRICS,	/* the http role, plain: /metrics */
};

/*
 * Which TLS 1.2 cipher list a listener offers: our own users' clients
 * (submission, submissions, pop3, pop3s, imap, imaps) get tls { ciphers },
 * AEAD only by default; other servers on the smtp listener get
 * tls { smtp-ciphers }, broader by default (tls.h, TLS_CIPHERS_*).
 */
enum conf_tls_profile {
	CONF_TLS_CLIENTS,
	CONF_TLS_MX,
};
#define CONF_TLS_PROFILES	2

struct conf_listen {
	enum conf_listen_kind	 kind;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	char			 text[80];	/* "127.0.0.1:2525" as written */
	int			 line;
};

/* What a relay directive demands of TLS to its host. */
enum conf_relay_tls {
	CONF_RELAY_TLS_MAY,		/* opportunistic, as for any MX */
	CONF_RELAY_TLS_REQUIRED,	/* encrypted or nothing */
	CONF_RELAY_TLS_VERIFY,		/* and a verified certificate */
};

struct conf_relay {
	char		domain[CONF_NAME_MAX + 1];	/* or "*" */
	char		host[CONF_NAME_MAX + 1];	/* without brackets */
	uint16_t	port;
	bool		mx;	/* look up MX records; false for [HOST] */
	int		line;
	enum conf_relay_tls tls;
	/*
	 * AUTH PLAIN to the relay: the user name, and the file whose first
	 * line is the password (read by the lookup role only); "" none.
	 */
	char		auth_user[CONF_ADDR_MAX + 1];
	char		auth_file[CONF_PATH_MAX];
};

struct conf_limits {
	size_t		message_size;		/* bytes, default 36700160 */
	size_t		recipients;		/* per message, default 1000 */
	size_t		errors;			/* before 421, default 10 */
	unsigned	smtp_timeout;		/* seconds, default 300 */
	unsigned	data_timeout;		/* seconds, default 600 */
	size_t		connections;		/* total, default 1000 */
	size_t		connections_per_ip;	/* default 20 */
};

/* What local delivery does when a mailbox is over its quota. */
enum conf_quota_exceeded {
	CONF_QUOTA_DEFER,	/* 452 4.2.2 at RCPT, retry at delivery */
	CONF_QUOTA_REJECT,	/* 552 5.2.2 at RCPT, fail at delivery */
};

/* dmarc-policy: whether a DMARC policy is applied or only reported. */
enum conf_dmarc_policy {
	CONF_DMARC_ENFORCE,	/* reject refuses, quarantine files to Junk */
	CONF_DMARC_REPORT_ONLY,	/* results in A-R and reports, mail delivered */
};

/* Local delivery and recipient resolution (lookup, queue, mda). */
struct conf_delivery {
	/* Where postmaster@ and abuse@ go; "" = the rule of cachet.conf.md */
	char			 postmaster[CONF_ADDR_MAX + 1];
	/* user+tag@: any one of these starts the tag; "" = no tags */
	char			 delimiters[CONF_DELIMS_MAX + 1];
	bool			 case_sensitive;	/* local parts */
	enum conf_quota_exceeded quota_exceeded;	/* default defer */
	bool			 hold;		/* queue delivers nothing */
	unsigned		 workers;	/* mda threads writing */
};

/* Outbound delivery: retries, bounces, connections (queue, mta). */
struct conf_outbound {
	unsigned	retry_first;	/* seconds before the first retry */
	unsigned	retry_max;	/* longest wait between tries */
	unsigned	lifetime;	/* give up (bounce) after, seconds */
	unsigned	delay_warning;	/* DSN "delayed" after; 0 never */
	size_t		connections;	/* outbound connections in total */
	size_t		per_destination;	/* to one destination */
};

/*
 * Processes of the roles that serve clients (smtp-workers, pop3-workers,
 * imap-workers); 0 is "auto", one per core (proc_workers() in proc.c).
 */
struct conf_workers {
	unsigned	smtp;
	unsigned	pop3;
	unsigned	imap;
};

/* The mode of our own MTA-STS policy (RFC 8461 §5). */
enum conf_sts_mode {
	CONF_STS_NONE,
	CONF_STS_TESTING,
	CONF_STS_ENFORCE,
};

/*
 * mta-sts-policy MODE [max-age DURATION] [mx PATTERN ...]: the policy the
 * http role serves for mta-sts.<each of our domains> (RFC 8461 §3.2).
 * Without mx patterns the hostname is the one.
 */
struct conf_sts_policy {
	bool			 set;		/* the directive was given */
	enum conf_sts_mode	 mode;
	unsigned		 max_age;	/* seconds */
	size_t			 nmx;
	char			 mx[CONF_STS_MX_MAX][CONF_NAME_MAX + 1];
};

/*
 * dnsbl ZONE [weight N] [returns LIST] and dnswl ZONE [weight N]
 * [returns LIST] (RFC 5782): the lists the prescreen asks about every
 * client address (lookup/lookup_prescreen.h).
 */
struct conf_dnsbl {
	char			 zone[CONF_NAME_MAX + 1];
	bool			 allow;		/* dnswl */
	/*
	 * A dnsbl without a weight refuses a listed client; with one it
	 * adds weight milli-points.  A dnswl subtracts weight (default
	 * CONF_DNSWL_WEIGHT_DEFAULT points).
	 */
	bool			 weighted;
	int32_t			 weight;	/* milli-points, >= 0 */
	struct dnsbl_returns	 returns;
	int			 line;
};
#define CONF_DNSWL_WEIGHT_DEFAULT	5	/* points */

/* sender-domain-check: a MAIL FROM domain with no MX, A or AAAA. */
enum conf_sender_check {
	CONF_SENDER_CHECK_SCORE,	/* points (the default) */
	CONF_SENDER_CHECK_REJECT,	/* 550 5.1.8 at MAIL FROM */
	CONF_SENDER_CHECK_OFF,		/* not looked up */
};

/* Debian's dns-root-data: the root zone's key (RFC 9718). */
#define CONF_TRUST_ANCHOR_DEFAULT	"/usr/share/dns/root.key"

struct conf {
	char		 file[CONF_PATH_MAX];	/* "(default)" when embedded */
	char		 hostname[CONF_NAME_MAX + 1];
	char		 state_dir[CONF_PATH_MAX];
	char		 mail_dir[CONF_PATH_MAX];
	char		 tls_cert[CONF_PATH_MAX];	/* "" = self-signed */
	char		 tls_key[CONF_PATH_MAX];
	/*
	 * tls { acme URL [contact MAILTO] }: certificates from an ACME
	 * server (RFC 8555) instead of certificate/key; "" = none.
	 */
	char		 acme_url[CONF_URL_MAX + 1];
	char		 acme_contact[CONF_ADDR_MAX + 1];	/* "" = none */
	/* TLS 1.2 cipher lists by profile; the defaults of tls.h if unset */
	char		 tls_ciphers[CONF_TLS_PROFILES][CONF_CIPHERS_MAX + 1];
	/* TLS 1.3 ciphersuites, all listeners; "" = OpenSSL's default */
	char		 tls_ciphersuites[CONF_CIPHERS_MAX + 1];
	bool		 plaintext_auth_loopback;	/* default false */
	/* The embedded demo's user, created at start if missing. */
	char		 demo_user[CONF_NAME_MAX + 1];
	char		 demo_password[64];
	/* Submission: MAIL FROM must be the user's or an alias of theirs. */
	bool		 submission_sender_check;	/* default true */
	/* spf-fail reject: an SPF fail refuses with 550 5.7.23 */
	bool		 spf_fail_reject;		/* default mark */
	char		 user[64];	/* base user name, default "_cachet" */

	struct conf_listen	*listens;
	size_t			 nlistens;
	char			(*domains)[CONF_NAME_MAX + 1];
	size_t			 ndomains;
	struct conf_relay	*relays;
	size_t			 nrelays;
	/* arc-trusted-sealer: ARC sealers whose chains DMARC may trust */
	char			(*arc_trusted)[CONF_NAME_MAX + 1];
	size_t			 narc_trusted;

	bool			 has_resolver;
	struct sockaddr_storage	 resolver;
	socklen_t		 resolverlen;
	char			 resolver_text[80];
	/*
	 * DNSSEC trust anchor file (DS or DNSKEY records in zone-file form),
	 * replacing the root's; default CONF_TRUST_ANCHOR_DEFAULT, "none"
	 * turns validation off (every answer insecure, so no DANE).
	 */
	char			 trust_anchor[CONF_PATH_MAX];
	/* DANE for outbound SMTP (RFC 7672); default on. */
	bool			 dane;
	/* MTA-STS for outbound SMTP (RFC 8461); default on. */
	bool			 mta_sts;
	/*
	 * PEM CA bundle the mta verifies remote SMTP servers and MTA-STS
	 * policy hosts against; "" = the system's.
	 */
	char			 tls_ca[CONF_PATH_MAX];
	/* TLS-RPT (RFC 8460): how often reports go out (default a day) */
	unsigned		 tlsrpt_interval;
	/* the From: of our reports; "" = noreply-tlsrpt@hostname */
	char			 tlsrpt_from[CONF_ADDR_MAX + 1];
	/* DMARC aggregate reports (RFC 7489 §7.2): how often, from whom */
	unsigned		 dmarc_report_interval;
	/* "" = postmaster@ the first domain (hostname when none) */
	char			 dmarc_report_from[CONF_ADDR_MAX + 1];

	/*
	 * SRS (lib/srs.h): the sender of mail an alias forwards to another
	 * domain is rewritten; default on.  srs_domain "" = the alias's
	 * domain.  srs_max_age: days an SRS0 address decodes (default 21).
	 */
	bool			 srs;
	char			 srs_domain[CONF_NAME_MAX + 1];
	unsigned		 srs_max_age;

	struct conf_limits	 limits;
	struct conf_delivery	 delivery;
	struct conf_outbound	 outbound;
	/* Roles run under their seccomp filters (sandbox.h); default on. */
	bool			 sandbox;
	struct conf_workers	 workers;
	/* Our own MTA-STS policy, served by the http role. */
	struct conf_sts_policy	 sts_policy;
	/*
	 * tlsrpt-rua: the rua of our _smtp._tls records (RFC 8460 §3), as
	 * written in the record ("mailto:a@b,https://c/"); "" = each
	 * domain's postmaster.
	 */
	char			 tlsrpt_rua[CONF_RUA_MAX + 1];
	/* DMARC (RFC 7489): what a failing message's policy does */
	enum conf_dmarc_policy	 dmarc_policy;	/* default enforce */
	/* The Public Suffix List lookup loads; "" = PSL_FILE_DEFAULT */
	char			 public_suffix_list[CONF_PATH_MAX];
	/*
	 * The spam verdict (lookup/lookup_spam.h): on by default; a total
	 * at or over spam_reject is refused, at or over spam_junk filed
	 * into Junk.  Milli-points; spam_reject CONF_SPAM_NEVER: never.
	 */
	bool			 spam;
	int32_t			 spam_junk;
	int32_t			 spam_reject;
	/* The content filter's rules (spamrules.h); "" = the built-in set */
	char			 spam_rules[CONF_PATH_MAX];
	/*
	 * Bayes (lookup/lookup_bayes.h): each user's own token counts on
	 * top of the server's (default no); the tokens kept in bayes.db,
	 * all layers together, before the least used are expired (default
	 * CONF_BAYES_MAX_TOKENS).
	 */
	bool			 spam_bayes_per_user;
	unsigned		 spam_bayes_max_tokens;
	/*
	 * Greylisting (RFC 6647, lookup_greylist.h), port 25 only; default
	 * off.  A triplet passes on a retry at least greylist_delay seconds
	 * (default 5m) and at most greylist_window seconds (default 2d)
	 * after its first attempt; the client network and the sender's
	 * domain then pass at once for greylist_whitelist seconds (default
	 * 35d) after they were last seen.
	 */
	bool			 greylist;
	unsigned		 greylist_delay;
	unsigned		 greylist_window;
	unsigned		 greylist_whitelist;
	/* smtp-greet-delay: port 25's pause before the banner, ms; 0 none */
	unsigned		 smtp_greet_delay;
	/* Spam prescreen (issue 15): DNS lists in the order given */
	struct conf_dnsbl	*dnsbls;
	size_t			 ndnsbls;
	unsigned		 dnsbl_timeout;	/* seconds for all lists */
	enum conf_sender_check	 sender_domain_check;
};

/*
 * Parse the file at path.  On success returns a new conf.  On failure
 * returns NULL and writes each error, one per line, as "file:line: message"
 * into errs (a caller-owned buffer of errsz bytes, always NUL-terminated).
 * An error that belongs to no line (the file cannot be read or is too
 * large, no listen directive) reads "file: message".  At most
 * CONF_ERRORS_MAX errors are written, then one line saying how many more
 * there were.  errs may be NULL when errsz is 0.
 * A certificate or key that is named but missing or unreadable is an error.
 */
struct conf	*conf_load(const char *path, char *errs, size_t errsz);

/*
 * Parse text held in memory; name is used in error messages.  Files named
 * in it (certificates) are checked as conf_load does.
 */
struct conf	*conf_parse(const char *name, const char *text, size_t len,
		    char *errs, size_t errsz);

/* The embedded default config (a demo on loopback, state in ./var). */
struct conf	*conf_default(void);
const char	*conf_default_text(void);

void		 conf_free(struct conf *);

const char	*conf_listen_kind_name(enum conf_listen_kind);
/* True when the listener speaks TLS from the first byte. */
bool		 conf_listen_implicit_tls(enum conf_listen_kind);
/* The cipher list a listener of this kind offers. */
enum conf_tls_profile	conf_listen_tls_profile(enum conf_listen_kind);

/* "none", "testing", "enforce". */
const char	*conf_sts_mode_name(enum conf_sts_mode);

/* True when name is one of our domains (ASCII case-insensitive). */
bool		 conf_is_local_domain(const struct conf *, const char *name);

#endif
