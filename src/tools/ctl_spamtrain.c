/*
 * ctl_spamtrain: STAND-IN (the `train` helper replaces this file).
 */
#include <stdio.h>

#include "ctl_spam.h"

int
ctl_spamtrain(const struct conf *conf, int argc, char **argv,
    ctl_exchange_fn exchange, void *arg)
{
	(void)conf;
	(void)argc;
	(void)argv;
	(void)exchange;
	(void)arg;
	fprintf(stderr, "cachetctl: spam train: not built yet\n");
	return 1;
}
