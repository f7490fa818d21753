/*
 * cachet-sendmail: the sendmail-compatible submission command (being
 * built).
 */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "cachet-sendmail: not yet available\n");
	return 69;	/* EX_UNAVAILABLE */
}
