"""Shared fixtures: `world`, the loopback world of upstreams (tests/world)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.world.world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """Every upstream on loopback, fresh for each test; see tests/world/world.py."""
    with World(home=tmp_path / "world") as started:
        yield started


# Property tests run the same examples on every run, so CI is repeatable; explore new
# ones with `pytest --hypothesis-profile=explore`.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000)
settings.load_profile("repeatable")
