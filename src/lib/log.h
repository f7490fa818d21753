/*
 * log: one line per event, a short message then key=value fields, to
 * stderr in the foreground and to syslog otherwise.  Every line carries the
 * name of the role that wrote it.  log_warn appends strerror(errno);
 * log_warnx does not (as OpenBSD's log.h).
 */
#ifndef CACHET_LOG_H
#define CACHET_LOG_H

#include <stdbool.h>
#include <stdarg.h>

/*
 * Start logging.  foreground: lines go to stderr, else syslog with the
 * LOG_MAIL facility (the syslog socket is opened at once so that a role
 * that chroots later keeps it).  verbose enables log_debug.
 */
void	log_init(bool foreground, bool verbose);
/* Name of the role, printed at the start of each line. */
void	log_setproc(const char *name);
bool	log_verbose(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Log and exit(1); fatal appends strerror(errno). */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
