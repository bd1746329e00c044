"""Shared fixtures: `world`, the loopback world of upstreams (tests/world)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.world.world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Every upstream on loopback, fresh for each test; see tests/world/world.py."""
    with World(home=tmp_path / "world") as started:
        yield started
