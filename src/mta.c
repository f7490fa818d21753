/*
 * mta: the mta role.  It starts, drops privileges as proc.c says and answers
 * pings; its work arrives with a later capability.
 */
#include "proc.h"

void
mta_main(struct proc_self *self)
{
	proc_drop(self);
	proc_run(self);
}
