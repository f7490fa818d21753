/*
 * lookup: the lookup role (being built).
 */
#include "proc.h"

void
lookup_main(struct proc_self *self)
{
	proc_drop(self);
	proc_run(self);
}
