/*
 * imap: the imap role.  It starts, drops privileges as proc.c says and answers
 * pings; its work arrives with a later capability.
 */
#include "proc.h"

void
imap_main(struct proc_self *self)
{
	proc_drop(self);
	proc_run(self);
}
