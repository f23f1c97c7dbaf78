"""Running many judgements at once, each pinned to its own cores.

The host's usable cores are cut into `jobs` disjoint slots; a task borrows a slot
for its whole run and gives it back, so no two runs ever share a core and time
limits stay fair whatever else is judged beside them.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from judge.errors import UsageError

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


def usable_cores() -> tuple[int, ...]:
    """Return the cores this process may run on."""
    return tuple(sorted(os.sched_getaffinity(0)))


def core_slots(jobs: int, cores: tuple[int, ...] | None = None) -> list[tuple[int, ...]]:
    """Cut the cores into `jobs` disjoint, equal slots (leftover cores stay idle)."""
    cores = usable_cores() if cores is None else cores
    if jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    if jobs > len(cores):
        raise UsageError(
            f"{jobs} parallel jobs need {jobs} cores but only {len(cores)} are usable here"
        )
    size = len(cores) // jobs
    return [cores[i * size : (i + 1) * size] for i in range(jobs)]


def cores_for(slot: tuple[int, ...], needed: int) -> tuple[int, ...]:
    """The cores of a slot one run uses: as many as it needs, never another slot's."""
    return slot[:needed] if len(slot) >= needed else slot


def run_pinned(
    work: Callable[[Item, tuple[int, ...]], Outcome],
    items: Iterable[Item],
    jobs: int,
    cores: tuple[int, ...] | None = None,
) -> Iterator[tuple[Item, Outcome | BaseException]]:
    """Run work(item, cpuset) for every item, `jobs` at a time, yielding as each finishes.

    An exception raised by one item is yielded in place of its outcome; the rest go on.
    Stopping the iteration early (or Ctrl-C) cancels the items not yet started.
    """
    slots: queue.Queue[tuple[int, ...]] = queue.Queue()
    for slot in core_slots(jobs, cores):
        slots.put(slot)

    def pinned(item: Item) -> Outcome:
        slot = slots.get()
        try:
            return work(item, slot)
        finally:
            slots.put(slot)

    pending: dict[Future[Outcome], Item] = {}
    todo = iter(items)
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="judge") as pool:
        try:
            for item in todo:
                pending[pool.submit(pinned, item)] = item
                if len(pending) >= jobs:
                    yield from _collect(pending, wait(pending, return_when=FIRST_COMPLETED).done)
            while pending:
                yield from _collect(pending, wait(pending, return_when=FIRST_COMPLETED).done)
        finally:
            for future in pending:
                future.cancel()


def _collect(
    pending: dict[Future[Outcome], Item], done: set[Future[Outcome]]
) -> Iterator[tuple[Item, Outcome | BaseException]]:
    for future in done:
        item = pending.pop(future)
        error = future.exception()
        yield (item, error) if error is not None else (item, future.result())
