"""`torch_threads: auto`: the cores this process may use, less what OTHER processes keep busy now."""

from __future__ import annotations

import threading
import time

from llm_twin.models.threads import (
    auto_threads,
    available_cores,
    busy_cores_of_others,
    configure_torch_threads,
)


def test_auto_uses_the_free_cores() -> None:
    assert auto_threads(cores=2, others=0.0) == 2
    assert auto_threads(cores=2, others=0.4) == 2  # a light background (a logger, the broker) keeps both
    assert auto_threads(cores=2, others=1.7) == 1  # another job on one core: do not spin-wait against it
    assert auto_threads(cores=2, others=6.0) == 1  # never 0
    assert auto_threads(cores=16, others=4.2) == 12


def test_own_cpu_time_is_not_counted_as_other_processes() -> None:
    """A busy thread of this very process (the run's own work) is taken out of the sample, which the
    1-minute load average that `auto` used to read could not do."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))

    worker = threading.Thread(target=spin, daemon=True)
    worker.start()
    try:
        time.sleep(0.2)
        others = busy_cores_of_others(0.5)
    finally:
        stop.set()
        worker.join()
    cores = available_cores()
    assert 0.0 <= others <= cores + 0.5
    # our spinning thread used about one core during the sample; counted, it would be there on top of others
    assert auto_threads(cores, others) >= 1


def test_configure_torch_threads_explicit_setting() -> None:
    import torch

    before = torch.get_num_threads()
    try:
        assert configure_torch_threads(1) == 1 and torch.get_num_threads() == 1
        assert 1 <= configure_torch_threads("auto") <= available_cores()
    finally:
        torch.set_num_threads(before)
