"""The version, and when the command started: the bottom of the package, imported first."""

from __future__ import annotations

import time

__all__ = ["STARTED", "__version__"]

STARTED = time.monotonic()
"""When the command started (as near as Python lets us): deadlines count from here."""

__version__ = "0.1.0"
