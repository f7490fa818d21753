/*
 * queue: the queue role (being built).
 */
#include "proc.h"

void
queue_main(struct proc_self *self)
{
	proc_drop(self);
	proc_run(self);
}
