"""Durations as people write them, for --older-than, --since and [store] keep."""

from __future__ import annotations

import pytest

from osint_fanout._duration import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90d", 90 * 86400),
        ("12h", 43200),
        ("30m", 1800),
        ("45s", 45),
        ("2w", 14 * 86400),
        ("1h30m", 5400),
        (" 1.5H ", 5400),
    ],
)
def test_durations_in_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "90", "d", "ninety days", "-1d", "1 d", "1y", "0d", "1d garbage", "inf"])
def test_anything_else_is_one_line_saying_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match=r"like 90d, 12h, 30m or 1h30m$") as caught:
        parse_duration(text)
    assert "\n" not in str(caught.value)


def test_formatted_in_the_largest_whole_unit() -> None:
    assert [format_duration(s) for s in (90 * 86400, 14 * 86400, 5400, 45, 1.5)] == ["90d", "2w", "90m", "45s", "1.5s"]
