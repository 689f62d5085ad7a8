"""What the host took from a run, and who did the work.

On a virtual machine, the hypervisor may give this machine's cores to another guest for a while
("steal"). A figure taken while a tenth of the CPU time was stolen is not comparable to one taken
without. bench/inbox.py prints the share beside each page's figures.

uvicorn's workers share one listening socket, and a worker accepts every connection waiting when
it wakes: wrk's connections, opened together, usually all land on one worker, whose one thread
for Django's views then serves them in turn while the other worker idles. bench/inbox.py prints
how the work was shared (`busiest_worker`), so a run where one worker did it all is recognised.
"""

from __future__ import annotations

from pathlib import Path


def cpu_times() -> tuple[int, int]:
    """(stolen, all) CPU time since boot, in clock ticks, from the first line of /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    return fields[7], sum(fields[:8])


def stolen_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of CPU time the hypervisor took between two readings of cpu_times()."""
    stolen, total = after[0] - before[0], after[1] - before[1]
    return round(stolen / total, 3) if total > 0 else 0.0


def children_cpu(parent: int) -> dict[int, int]:
    """CPU time (user + system, in clock ticks) of each child process of `parent`."""
    found = {}
    for task in Path(f"/proc/{parent}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            found[int(pid)] = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return found


def busiest_share(before: dict[int, int], after: dict[int, int]) -> float:
    """The share of the children's CPU time between two readings that the busiest child used."""
    used = [ticks - before.get(pid, 0) for pid, ticks in after.items()]
    total = sum(used)
    return round(max(used) / total, 2) if total > 0 else 0.0
