"""Torch CPU thread count. On a shared machine, OpenMP threads spin-wait on each other: measured here
with a load of ~5 on 2 cores, greedy generation ran 4-5x slower with 2 threads than with 1. `auto` uses
every core when the machine is quiet and a single thread when it is already busy."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def configure_torch_threads(setting: int | str = "auto") -> int:
    import torch

    cores = os.cpu_count() or 1
    if setting == "auto":
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = 0.0
        threads = 1 if load > 0.75 * cores else cores
    else:
        threads = max(1, int(setting))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
        log.info("torch CPU threads: %d (cores %d, setting %s)", threads, cores, setting)
    return threads
