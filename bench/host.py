"""What the host took from a run: on a virtual machine, the hypervisor may give this machine's
cores to another guest for a while ("steal"). A figure taken while a tenth of the CPU time was
stolen is not comparable to one taken without. bench/inbox.py prints the share beside each page's
figures."""

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
