"""Progress on stderr: a bar on a terminal, plain heartbeat lines in a log.

``ACTFIT_PROGRESS=0`` turns both off.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.text import Text

if TYPE_CHECKING:
    from actfit.options import Progress


__all__ = ["fit_progress", "table_progress"]

class _Heartbeat:
    """Plain progress lines for a log or a pipe: ``LABEL: STAGE, 12 s`` every few seconds.

    A thread prints them, so a fitter that reports rarely still shows that it runs.
    """

    def __init__(self, console: Console, label: str, first: float, interval: float) -> None:
        self._console, self._label = console, label
        self._first, self._interval = first, interval
        self._started = time.monotonic()
        self._stage = "starting"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def update(self, stage: str) -> None:
        self._stage = stage

    def _run(self) -> None:
        wait = self._first
        while not self._stop.wait(wait):
            elapsed = time.monotonic() - self._started
            self._console.print(
                Text(f"{self._label}: {self._stage}, {elapsed:.0f} s"),
                highlight=False,
                soft_wrap=True,
            )
            wait = self._interval

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _progress_off() -> bool:
    return os.environ.get("ACTFIT_PROGRESS", "").strip() == "0"


@contextmanager
def table_progress(
    console: Console, label: str = "table", *, first: float = 3.0, interval: float = 5.0
) -> Iterator[Callable[[int, int, str], None]]:
    """Show progress on ``console`` while a table is fitted: a bar with a fit count on a
    terminal, else a plain line every ``interval`` seconds (after ``first`` seconds).

    Nothing is shown with ``ACTFIT_PROGRESS=0`` (as :func:`fit_progress`).

    Yields the ``progress(done, total, label)`` callback of :func:`actfit.batch.fit_table`.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    if _progress_off():

        def silent(done: int, total: int, what: str) -> None:
            return None

        yield silent
        return
    if not console.is_terminal:
        with _Heartbeat(console, label, first, interval) as beat:

            def plain(done: int, total: int, what: str) -> None:
                beat.update(f"fit {min(done + 1, total)} of {total}, {what}")

            yield plain
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("fitting", total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        yield progress


@contextmanager
def fit_progress(
    console: Console,
    label: str,
    *,
    delay: float = 1.0,
    first: float = 3.0,
    interval: float = 5.0,
) -> Iterator[Progress]:
    """Show a fit's progress on ``console``: on a terminal a bar for a fit that runs longer
    than ``delay`` s, else a plain line (``minimax gelu [12,12] abs: exchange round 3, 12 s``)
    every ``interval`` seconds after the first ``first`` seconds.

    Args:
        console: where to draw (stderr, so that ``--json`` output stays clean).
        label: what is fitted, e.g. ``minimax gelu [12,12] abs``.
        delay, first, interval: seconds, see above.

    With the environment variable ``ACTFIT_PROGRESS=0`` nothing is shown (logs that must not
    depend on timing, such as the README check).

    Yields a :data:`actfit.options.Progress` callback for the fitter's ``progress=``.
    """
    if _progress_off():

        def silent(stage: str, fraction: float) -> None:
            return None

        yield silent
        return
    if not console.is_terminal:
        with _Heartbeat(console, label, first, interval) as beat:

            def plain(stage: str, fraction: float) -> None:
                beat.update(stage)

            yield plain
        return

    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    bar = Bar(
        TextColumn(f"{escape(label)}: {{task.description}}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    started = time.perf_counter()
    task = None

    def progress(stage: str, fraction: float) -> None:
        nonlocal task
        # Show the bar only for fits that run longer than about a second.
        if task is None:
            if time.perf_counter() - started < delay:
                return
            bar.start()
            task = bar.add_task(stage, total=1.0)
        bar.update(task, completed=fraction, description=escape(stage))

    try:
        yield progress
    finally:
        if task is not None:
            bar.stop()
