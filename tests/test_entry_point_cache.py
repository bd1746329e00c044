"""The entry-point cache: a plugin installed is seen at once, one removed is gone at once,
and nothing about the cache can make discovery fail."""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from pathlib import Path

import pytest

from osint_fanout import _epcache
from osint_fanout._plugins import discover
from tests.plugin_kit import clean_env, install_plugin, run_cli

QUICK = """
    from osint_fanout import Adapter, TargetKind

    class Plugin(Adapter):
        name = "{name}"
        description = "answers at once"
        kinds = frozenset(TargetKind)

        async def lookup(self, target, ctx):
            return {{}}
"""


def settle(root: Path) -> None:
    """Date everything under `root` (and itself) a minute back, as if installed long ago."""
    past = time.time() - 60
    for path in [*root.rglob("*"), root]:
        os.utime(path, (past, past))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private user cache folder (the one the cache file goes in)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(_epcache.CACHE_ENV, raising=False)
    return tmp_path / "cache" / "osint-fanout"


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    scan = _epcache._scan

    def counted(group: str) -> list[_epcache.Point]:
        seen.append(group)
        return scan(group)

    monkeypatch.setattr(_epcache, "_scan", counted)
    return seen


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder for plugins, on sys.path (it is there before the first scan, so a plugin
    written into it later changes that folder, not sys.path)."""
    root = tmp_path / "plugins"
    root.mkdir()
    settle(root)
    monkeypatch.syspath_prepend(str(root))
    return root


def test_a_second_discovery_reads_the_cache(cache: Path, scans: list[str], plugins: Path) -> None:
    first = discover()
    assert list(cache.glob("entry-points-*.json"))
    second = discover()
    assert len(scans) == 1
    assert second.adapters == first.adapters and second.origins == first.origins


def test_a_plugin_installed_is_found_at_once_and_gone_once_removed(
    cache: Path, scans: list[str], plugins: Path
) -> None:
    discover()
    install_plugin(plugins, "cachedemo", QUICK.format(name="cachedemo"))
    importlib.invalidate_caches()
    assert "cachedemo" in discover().adapters
    settle(plugins)
    assert "cachedemo" in discover().adapters
    assert "cachedemo" in discover().adapters  # from the cache now
    scanned = len(scans)
    for path in sorted(plugins.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    sys.modules.pop("ofp_cachedemo", None)
    importlib.invalidate_caches()
    assert "cachedemo" not in discover().adapters
    assert len(scans) == scanned + 1


def test_a_folder_put_on_sys_path_at_run_time_is_seen(
    cache: Path, scans: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    discover()
    root = install_plugin(tmp_path / "late", "latecomer", QUICK.format(name="latecomer"))
    settle(root)
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    assert "latecomer" in discover().adapters
    monkeypatch.undo()
    importlib.invalidate_caches()
    assert "latecomer" not in discover().adapters


def test_an_entry_points_file_edited_in_place_is_seen(cache: Path, plugins: Path) -> None:
    install_plugin(plugins, "first", QUICK.format(name="first"))
    install_plugin(plugins, "second", QUICK.format(name="second"))
    points = plugins / "ofp_first-0.1.dist-info" / "entry_points.txt"
    points.write_text("[osint_fanout.adapters]\nfirst = ofp_first:Plugin\n", encoding="utf-8")
    settle(plugins)
    importlib.invalidate_caches()
    assert {"first", "second"} <= set(discover().adapters)
    discover()  # cached
    points.write_text("[osint_fanout.adapters]\n", encoding="utf-8")  # the same folder, one entry point less
    settle(plugins / "ofp_first-0.1.dist-info")
    os.utime(points, (time.time() - 30, time.time() - 30))  # another time, another size
    registry = discover()
    assert "first" not in registry.adapters and "second" in registry.adapters


def test_changes_within_the_settling_time_are_never_cached(cache: Path, scans: list[str], plugins: Path) -> None:
    install_plugin(plugins, "fresh", QUICK.format(name="fresh"))  # written just now
    importlib.invalidate_caches()
    assert "fresh" in discover().adapters
    assert "fresh" in discover().adapters
    assert len(scans) == 2  # nothing was written for a key that could still change unseen


@pytest.mark.parametrize("content", ["not json", '{"format": 1}', "[]", '{"format": 1, "key": [], "points": 5}'])
def test_a_broken_cache_file_means_a_scan(cache: Path, scans: list[str], plugins: Path, content: str) -> None:
    expected = discover().adapters
    [file] = cache.glob("entry-points-*.json")
    file.write_text(content, encoding="utf-8")
    assert discover().adapters == expected
    assert len(scans) == 2
    assert json.loads(file.read_text(encoding="utf-8"))["format"] == _epcache.FORMAT  # written anew


def test_a_cache_folder_that_cannot_be_written_is_no_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plugins: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where the folder would go
    assert "dns" in discover().adapters


def test_the_cache_can_be_turned_off(cache: Path, scans: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_epcache.CACHE_ENV, "1")
    discover()
    discover()
    assert len(scans) == 2
    assert not list(cache.glob("entry-points-*.json"))


def test_the_installed_cli_sees_a_plugin_at_once_and_forgets_it_at_once(tmp_path: Path) -> None:
    plugins = install_plugin(tmp_path / "plugins", "cliplugin", QUICK.format(name="cliplugin"))
    settle(plugins)
    bare, with_plugin = clean_env(tmp_path), clean_env(tmp_path, pythonpath=plugins)
    for env, listed in [(bare, False), (bare, False), (with_plugin, True), (with_plugin, True), (bare, False)]:
        proc, _ = run_cli(["adapters", "--format", "json"], env)
        assert proc.returncode == 0, proc.stderr
        names = {adapter["name"] for adapter in json.loads(proc.stdout)["adapters"]}
        assert ("cliplugin" in names) is listed and "dns" in names
    assert list((tmp_path / "cache" / "osint-fanout").glob("entry-points-*.json"))
