"""The console script. `--version` is answered before anything else is imported (Typer
alone takes two bare interpreter starts); every other command goes to the Typer app."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from ._version import __version__

__all__ = ["main"]

_VERSION_FLAGS = (["--version"], ["-V"])


def main() -> NoReturn:
    if sys.argv[1:] in _VERSION_FLAGS and sys.stdout is not None:
        _version()
    if sys.argv[1:2] == ["search"] and not {"--no-store", "--help", "-h"} & set(sys.argv):
        from .store._child import prestart  # the store's writer starts loading on another core now

        prestart()
    from ._cli import main as run

    run()


def _version() -> NoReturn:
    """What `--version` prints through Typer, with the same exit codes (141: stdout closed
    early, 74: it could not be written)."""
    from ._exitcodes import EXIT_OUTPUT_CLOSED, EXIT_OUTPUT_FAILED

    code = 0
    try:
        sys.stdout.write(f"osint-fanout {__version__}\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        code = EXIT_OUTPUT_CLOSED
    except OSError as exc:
        print(f"osint-fanout: error: cannot write stdout: {exc.strerror or exc}", file=sys.stderr)
        code = EXIT_OUTPUT_FAILED
    os._exit(code)
