"""What a run says about its time (issue 18): start-up that ate much of the deadline, a
shard whose turn on the clock lies beyond the run's time, and a bulk ETA that counts the
time the queues need."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from osint_fanout._inputs import shard_of
from osint_fanout._keys import QueueInfo
from osint_fanout._progress import QueueAwareRemaining
from osint_fanout._ratelimit import RateLimit
from tests.plugin_kit import clean_env, install_plugin, run_cli
from tests.world.world import World

SLOW_START = """
    import time
    from osint_fanout import Adapter, TargetKind

    time.sleep(1.0)  # a slow import: the start-up of a loaded machine, at least 1 s

    class Plugin(Adapter):
        name = "slowstart"
        description = "slow to import"
        kinds = frozenset(TargetKind)

        async def lookup(self, target, ctx):
            return {"ok": True}
"""


def test_start_up_that_ate_over_half_the_deadline_is_said_in_one_line(tmp_path: Path) -> None:
    plugins = install_plugin(tmp_path / "plugins", "slowstart", SLOW_START)
    proc, _ = run_cli(
        ["search", "example.com", "-a", "slowstart", "--deadline", "1.5", "-f", "json", "--no-store"],
        clean_env(tmp_path, pythonpath=plugins),
    )
    warnings = [line for line in proc.stderr.splitlines() if "start-up took" in line]
    assert len(warnings) == 1, proc.stderr
    took = float(re.search(r"start-up took ([\d.]+) s of the 1.5 s deadline", warnings[0]).group(1))  # type: ignore[union-attr]
    assert took >= 1.0  # the import's sleep, at least
    [result] = __import__("json").loads(proc.stdout)["results"]
    if result["status"] == "cancelled":  # a machine so busy that nothing was left: said there too
        assert "(start-up took" in result["error"]["message"]


def test_a_quick_start_says_nothing_about_it(world: World) -> None:
    said = world.run_cli("search", "example.com", "-a", "dns", "--deadline", "600", "-f", "json", "--no-store")
    assert said.code == 0 and "start-up" not in said.stderr, said.stderr


def _target_far_from_its_turn(shards: int, rate: RateLimit, beyond_s: float) -> tuple[str, int]:
    """A target whose shard's turn on the clock is more than `beyond_s` away."""
    for n in range(500):
        target = f"t{n}.example.com"
        index = shard_of(target, shards)
        if rate.divided(index, shards).slot_wait(time.time()) > beyond_s:
            return target, index + 1
    raise AssertionError("no such target")


@pytest.mark.parametrize("bound", [("--deadline", "30"), ("--deadline", "30", "--max-time", "8")])
def test_a_shard_whose_turn_lies_beyond_the_run_says_so_and_is_bounded(world: World, bound: tuple[str, ...]) -> None:
    """crt.sh's 1/s among 1000 shards: a turn every 2000 s. Before, the run waited for it."""
    target, shard = _target_far_from_its_turn(1000, RateLimit(1, 1.0), beyond_s=600)
    world.write_config(ct={"rate_limit": "1/s"})
    said = world.run_cli("search", target, "-a", "ct", "--shard", f"{shard}/1000", "-f", "json", "--no-store",
                         *bound, timeout=120)
    assert said.code == 1, said.stderr
    assert re.search(rf"ct/crtsh: shard {shard}/1000's first turn on the clock is in \d+ s", said.stderr)
    [result] = said.json()["results"]
    if "--max-time" in bound:
        assert "beyond --max-time 8 s: the run stops at --max-time first" in said.stderr
        # cancelled by --max-time (on a very busy machine, by the watchdog that backs it up)
        assert result["status"] == "cancelled", result
    else:
        assert "beyond the 30 s deadline: its calls end rate_limited" in said.stderr
        assert result["error"]["type"] == "rate_limited"
        assert "turn on the clock" in result["error"]["message"]
        assert result["elapsed_ms"] < 30_000  # it did not wait for the turn (600 s away), nor its deadline


def _eta(queues: list[QueueInfo], done: int, total: int) -> str:
    progress = Progress(console=Console(file=io.StringIO()), auto_refresh=False)
    task_id = progress.add_task("targets", total=total)
    for _ in range(done):
        progress.advance(task_id)
    column = QueueAwareRemaining(lambda: queues)
    return column.render(progress.tasks[0]).plain


def test_the_bulk_eta_includes_the_time_the_queues_need() -> None:
    queue = QueueInfo("virustotal", "api", 6, RateLimit(4, 60.0))  # 6 queued at 4/m: 90 s
    assert _eta([queue], done=9, total=10) == "0:01:30"  # the pace of the first nine says ~0 s
    assert _eta([], done=9, total=10) != "0:01:30"
    assert _eta([QueueInfo("dns", "api", 3, None)], done=9, total=10) != "0:01:30"  # no rate: nothing to add
