"""Processes by what /proc says of them, for stopping what a test
started by PID (the daemon's roles, a Postfix instance's group)."""

import os

# Fields of /proc/PID/stat after the command name: state, ppid, pgrp.
PPID = 1
PGRP = 2


def pids_where(field, value):
    """PIDs of live (not zombie) processes whose /proc stat field (PPID,
    PGRP) is value."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[-1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[0] != "Z" and int(fields[field]) == value:
            out.append(int(name))
    return out
