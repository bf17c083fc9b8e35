"""The engine behind a running service, swappable without downtime.

Every request leases the current engine for as long as it runs (a stream: until its last token). A swap
loads the new engine first, with the old one still serving, then switches in one step under a lock: new
requests get the new engine, requests in flight finish on the old one, and the old one is closed when
its last lease ends. A load that fails leaves the old engine serving. One swap at a time.

This is what a release process (issue #15: deploy on promotion) drives through the service's
`POST /admin/reload`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

log = logging.getLogger(__name__)


class Engine(Protocol):
    model_version: str

    def close(self) -> None: ...


E = TypeVar("E", bound=Engine)


class ReloadFailed(RuntimeError):
    """The new engine could not be loaded; the old one is still serving."""

    def __init__(self, message: str, serving: str) -> None:
        super().__init__(message)
        self.serving = serving


class SwapReport(BaseModel):
    previous_version: str
    model_version: str
    load_s: float
    in_flight_on_previous: int  # requests that were still running on the old engine at the switch


class _Slot(Generic[E]):
    def __init__(self, engine: E) -> None:
        self.engine = engine
        self.active = 0
        self.retired = False
        self.closed = False


class Lease(Generic[E]):
    """A hold on one engine; `release()` is idempotent (also called by the garbage collector's path)."""

    def __init__(self, holder: EngineHolder[E], slot: _Slot[E]) -> None:
        self._holder = holder
        self._slot = slot
        self._released = False
        self.engine = slot.engine

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._holder._release(self._slot)


class EngineHolder(Generic[E]):
    def __init__(self, engine: E) -> None:
        self._lock = threading.Lock()
        self._swap_lock = threading.Lock()
        self._slot: _Slot[E] = _Slot(engine)
        self.swaps = 0

    @property
    def engine(self) -> E:
        """The current engine, for quick reads (version, health); requests use `lease()`."""
        return self._slot.engine

    @property
    def model_version(self) -> str:
        return self._slot.engine.model_version

    def acquire(self) -> Lease[E]:
        with self._lock:
            slot = self._slot
            slot.active += 1
        return Lease(self, slot)

    @contextlib.contextmanager
    def lease(self) -> Iterator[E]:
        hold = self.acquire()
        try:
            yield hold.engine
        finally:
            hold.release()

    def _release(self, slot: _Slot[E]) -> None:
        with self._lock:
            slot.active -= 1
            close = slot.retired and slot.active == 0 and not slot.closed
            if close:
                slot.closed = True
        if close:
            self._close(slot)

    @staticmethod
    def _close(slot: _Slot[E]) -> None:
        try:
            slot.engine.close()
            log.info("closed engine %s", slot.engine.model_version)
        except Exception:
            log.exception("closing engine %s failed", slot.engine.model_version)

    def swap(self, engine: E) -> SwapReport:
        """Switch to an engine that is already loaded."""
        with self._lock:
            old = self._slot
            self._slot = _Slot(engine)
            old.retired = True
            in_flight = old.active
            close = in_flight == 0 and not old.closed
            if close:
                old.closed = True
            self.swaps += 1
        if close:
            self._close(old)
        log.info("now serving %s (was %s; %d requests finishing on it)", engine.model_version,
                 old.engine.model_version, in_flight)
        return SwapReport(previous_version=old.engine.model_version, model_version=engine.model_version,
                          load_s=0.0, in_flight_on_previous=in_flight)

    def reload(self, load: Callable[[], E]) -> SwapReport:
        """Load a new engine with `load()` while the current one serves, then swap to it."""
        if not self._swap_lock.acquire(blocking=False):
            raise ReloadFailed("another reload is in progress", self.model_version)
        try:
            t0 = time.perf_counter()
            try:
                engine = load()
            except Exception as exc:
                log.exception("reload failed; still serving %s", self.model_version)
                raise ReloadFailed(f"{type(exc).__name__}: {exc}", self.model_version) from exc
            report = self.swap(engine)
            return report.model_copy(update={"load_s": round(time.perf_counter() - t0, 3)})
        finally:
            self._swap_lock.release()

    def close(self) -> None:
        """Service shutdown: close the current engine once its requests are done."""
        with self._lock:
            slot = self._slot
            slot.retired = True
            close = slot.active == 0 and not slot.closed
            if close:
                slot.closed = True
        if close:
            self._close(slot)
