"""The ``actfit`` command line: thin typer commands that call the library and render with rich.

Every error a user can cause is an :class:`~actfit.errors.ActfitError` (or a usage error);
both become one red line on stderr and exit code 2, with nothing written to disk. Anything else
is a bug and keeps its traceback. Outputs are checked before any work and written all or none
(:func:`actfit.export.write_all`).

The help reads like a man page: ``-h``/``--help`` everywhere, ``actfit --version``, metavars
(``TARGET``, ``M,N``, ``A B``), one example per command, the commands in workflow order.
``--range A,B`` is accepted next to ``--range A B``, and ``--order``/``--orders`` and
``--slope``/``--slopes`` are accepted by every command that takes one of them
(:func:`normalize_args`).

The plumbing is :mod:`actfit.cli.app`; the commands are grouped by what they work on in
:mod:`actfit.cli.fitting`, :mod:`actfit.cli.tables` and :mod:`actfit.cli.runtime`, each
registered on the one app when this package is imported.
"""


from __future__ import annotations

from actfit.cli import fitting, runtime, tables  # noqa: F401  (registers the commands)
from actfit.cli.app import COMMAND_ORDER, app, normalize_args

__all__ = ["COMMAND_ORDER", "app", "main", "normalize_args"]


def main() -> None:
    """Console-script entry point."""
    app()
