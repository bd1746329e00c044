"""Run one adapter through the real engine, the way the CLI does: the public kit."""

from __future__ import annotations

from osint_fanout.testing import run_adapter

__all__ = ["run_adapter"]
