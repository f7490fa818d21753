/*
 * log: line-oriented logging for every role.  Lines look like
 *   smtp: session open sid=3f0c... ip=127.0.0.1
 * Callers make peer strings printable before passing them (util.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static bool		 log_fg = true;
static bool		 log_verb;
static const char	*log_proc = "cachetd";

void
log_init(bool foreground, bool verbose)
{
	log_fg = foreground;
	log_verb = verbose;
	if (!foreground)
		openlog("cachetd", LOG_PID | LOG_NDELAY, LOG_MAIL);
	tzset();
}

void
log_setproc(const char *name)
{
	log_proc = name;
}

bool
log_verbose(void)
{
	return log_verb;
}

static void
log_vwrite(int pri, const char *fmt, va_list ap, int errnum)
    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(int pri, const char *fmt, va_list ap, int errnum)
{
	char		 msg[2048];
	char		 stamp[32];
	struct timespec	 ts;
	struct tm	 tm;
	int		 n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errnum != 0 && (size_t)n < sizeof(msg))
		(void)snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    strerror(errnum));
	if (log_fg) {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		(void)strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s[%d]: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_proc, (int)getpid(), msg);
		fflush(stderr);
	} else
		syslog(pri, "%s: %s", log_proc, msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verb)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, saved);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}
