/*
 * fuzz_ctl_quickstart: the arguments of `cachetctl quickstart`.  The
 * input is split on LF into argv (each word a heap copy of exactly its
 * length and a NUL), parsed by ctl_quickstart_args(); what it accepts
 * is written out by ctl_quickstart_conf() and read back by conf_parse().
 * Checked: the config of accepted arguments parses whenever no
 * --resolver was given (whose value conf_parse alone judges) and the
 * ports are distinct (a clash is conf_parse's to report); names the
 * address's domain; and the password of any octets is 23 characters.
 * Broken invariants call abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl_quickstart.h"

#define FZ_ARGV_MAX	24

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool
fz_ports_distinct(const struct ctl_quickstart_opts *o)
{
	size_t	i, j;

	for (i = 0; i < CTL_QUICKSTART_NLISTEN; i++)
		for (j = i + 1; j < CTL_QUICKSTART_NLISTEN; j++)
			if (o->ports[i] == o->ports[j])
				return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_quickstart_opts	 o;
	struct conf			*c;
	struct buf			 text;
	uint8_t				 rnd[CTL_QUICKSTART_PASSWORD_LEN];
	char				*argv[FZ_ARGV_MAX], err[256];
	char				 errs[2048];
	char				 pw[CTL_QUICKSTART_PASSWORD_SIZE];
	const uint8_t			*nl;
	size_t				 len;
	int				 argc = 0, i;

	memset(rnd, 0, sizeof(rnd));
	memcpy(rnd, data, size < sizeof(rnd) ? size : sizeof(rnd));
	ctl_quickstart_password(rnd, pw);
	if (strlen(pw) != CTL_QUICKSTART_PASSWORD_SIZE - 1)
		abort();

	argv[argc++] = strdup("quickstart");
	while (size > 0 && argc < FZ_ARGV_MAX) {
		nl = memchr(data, '\n', size);
		len = nl != NULL ? (size_t)(nl - data) : size;
		argv[argc] = malloc(len + 1);
		if (argv[argc] == NULL)
			abort();
		memcpy(argv[argc], data, len);
		argv[argc++][len] = '\0';
		data += nl != NULL ? len + 1 : len;
		size -= nl != NULL ? len + 1 : len;
	}
	if (ctl_quickstart_args(argc, argv, &o, err, sizeof(err)) == 0) {
		buf_init(&text, 64 * 1024);
		if (ctl_quickstart_conf(&o, "2026-12-06", &text) == -1)
			abort();
		c = conf_parse("qs.conf", text.data, text.len, errs,
		    sizeof(errs));
		if (c == NULL && o.resolver[0] == '\0' &&
		    fz_ports_distinct(&o))
			abort();
		if (c != NULL && (c->ndomains != 1 ||
		    strcmp(c->domains[0], o.domain) != 0))
			abort();
		conf_free(c);
		buf_free(&text);
	}
	for (i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
