"""Torch CPU thread count. On a shared machine, OpenMP threads spin-wait on each other: measured here
with a load of ~5 on 2 cores, greedy generation ran 4-5x slower with 2 threads than with 1.

`auto` gives torch the cores this process may run on (its CPU affinity, so a container's or a
`taskset`'s limit counts) less the cores that OTHER processes keep busy right now. The busy share is
sampled from /proc over half a second, with this process's own CPU time taken out: the 1-minute load
average that an earlier version read still counted the run's own previous stage (a training step right
after the dataset step), and chose 1 thread on an otherwise idle machine.
"""

from __future__ import annotations

import logging
import os
import time

log = logging.getLogger(__name__)

SAMPLE_S = 0.5


def available_cores() -> int:
    """Cores this process may run on (affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _busy_jiffies() -> int:
    """All CPUs' non-idle time since boot, in clock ticks (first line of /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    guest = sum(fields[8:10]) if len(fields) > 9 else 0  # already counted in user / nice
    return sum(fields) - idle - guest


def _own_jiffies() -> int:
    """This process's CPU time (all threads, and children it has waited for), in clock ticks."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15])  # utime stime cutime cstime


def busy_cores_of_others(sample_s: float = SAMPLE_S) -> float:
    """How many cores other processes use right now (0.0 where /proc cannot be read: not Linux)."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        busy0, own0, t0 = _busy_jiffies(), _own_jiffies(), time.monotonic()
        time.sleep(sample_s)
        busy1, own1, t1 = _busy_jiffies(), _own_jiffies(), time.monotonic()
    except (OSError, ValueError, IndexError):
        try:
            return max(0.0, os.getloadavg()[0] - 1.0)  # a fallback that still leaves room for this process
        except OSError:
            return 0.0
    return max(0.0, ((busy1 - busy0) - (own1 - own0)) / tick / max(t1 - t0, 1e-3))


def auto_threads(cores: int | None = None, others: float | None = None) -> int:
    """The cores not kept busy by other processes, at least 1."""
    cores = available_cores() if cores is None else cores
    others = busy_cores_of_others() if others is None else others
    return max(1, min(cores, cores - round(others)))


def configure_torch_threads(setting: int | str = "auto") -> int:
    import torch

    cores = available_cores()
    if setting == "auto":
        others = busy_cores_of_others()
        threads = auto_threads(cores, others)
        reason = f"auto: {cores} cores available, {others:.2f} busy with other processes"
    else:
        threads = max(1, int(setting))
        reason = f"setting {setting}"
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    log.info("torch CPU threads: %d (%s)", threads, reason)
    return threads
