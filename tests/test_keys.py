"""Several keys for one service: a window each, the freest first, a rejected one set aside;
the adapter writes `self.api_key` once and never sees which key went."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import httpx
import pytest
import respx
from pydantic import SecretStr

from osint_fanout._keys import KEY_TOKEN, KeyRing
from osint_fanout._ratelimit import RateLimit, Slot
from osint_fanout._settings import ConfigError, load_settings
from tests.test_http import BASE, run_many
from tests.world.world import World

KEYS = ["first-key-0123456789", "second-key-0123456789"]


def options(**extra: object) -> dict[str, object]:
    return {"api_key": KEYS[0], "api_keys": KEYS[1:], **extra}


@respx.mock
@pytest.mark.parametrize("key_in", ["query", "header"])
def test_two_keys_double_the_rate_each_in_its_own_window(key_in: str) -> None:
    sent: list[tuple[float, str]] = []

    def record(request: httpx.Request) -> httpx.Response:
        key = request.url.params.get("key") or request.headers.get("x-apikey", "")
        sent.append((time.monotonic(), key))
        return httpx.Response(200, json={})

    respx.get(url__regex=rf"{BASE}/d/.*").mock(side_effect=record)
    results = run_many(options(rate_limit="2/s", key_in=key_in), [f"t{n}.com" for n in range(8)])
    assert all(r.status.value == "ok" for r in results)
    assert {key for _, key in sent} == set(KEYS)  # the real keys went, never the stand-in
    assert KEY_TOKEN not in str(sent)
    for key in KEYS:  # each key within its own window: at most 2 in any second
        times = [at for at, used in sent if used == key]
        assert len(times) == 4
        assert all(sum(1 for t in times if 0 <= t - first < 1.0) <= 2 for first in times)
    span = max(at for at, _ in sent) - min(at for at, _ in sent)
    assert span < 3.0  # one key alone needs at least 3 s for 8 at 2/s (two keys: about 1 s)


@respx.mock
def test_a_refused_key_is_set_aside_once_and_the_request_goes_to_another(caplog: pytest.LogCaptureFixture) -> None:
    used: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        key = request.url.params.get("key", "")
        used.append(key)
        return httpx.Response(401, json={"error": "bad key"}) if key == KEYS[0] else httpx.Response(200, json={})

    respx.get(url__regex=rf"{BASE}/d/.*").mock(side_effect=answer)
    with caplog.at_level(logging.WARNING, logger="osint_fanout.http"):
        results = run_many(options(), [f"t{n}.com" for n in range(6)])
    assert [r.status.value for r in results] == ["ok"] * 6
    assert used.count(KEYS[0]) == 1  # asked once, then set aside for the rest of the run
    warnings = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert warnings == ["echo: key 1 of 2 was refused (HTTP 401) and is set aside for this run"]
    assert not any(key in r.getMessage() for r in caplog.records for key in KEYS)


@respx.mock
def test_a_request_takes_its_key_when_sent_so_a_refused_key_queued_for_is_never_used() -> None:
    """Two keys at 2/s, 12 targets: half of them queue for key 1's window before its first
    answer (401, after 0.5 s). They must go out with key 2, not with the key set aside meanwhile
    (before, key 1 went out 6 times)."""
    used: list[str] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.5)  # the upstream's latency: the queue builds before the first 401
        key = request.url.params.get("key", "")
        used.append(key)
        return httpx.Response(401, json={"error": "bad key"}) if key == KEYS[0] else httpx.Response(200, json={})

    respx.get(url__regex=rf"{BASE}/d/.*").mock(side_effect=answer)
    results = run_many(options(rate_limit="2/s"), [f"t{n}.com" for n in range(12)])
    assert [r.status.value for r in results] == ["ok"] * 12
    assert used.count(KEYS[0]) <= 2  # only what its window (2/s) let out before the first 401 came back
    assert used.count(KEYS[1]) == 12


@respx.mock
def test_every_key_refused_is_auth_naming_them_by_number() -> None:
    respx.get(url__regex=rf"{BASE}/d/.*").mock(return_value=httpx.Response(403, json={"error": "no"}))
    results = run_many(options(), ["a.com", "b.com", "c.com"])
    assert {r.error.type for r in results if r.error} == {"auth"}
    messages = " ".join(r.error.message for r in results if r.error)
    assert "key 1 of 2" in messages or "HTTP 403" in messages
    assert not any(key in messages for key in KEYS)


def test_the_freest_key_is_picked() -> None:
    ring = KeyRing("echo", 3, RateLimit(1, 60.0))
    ring.limiters[0]._slots.append(Slot(time.monotonic()))  # key 1's window is full for a minute
    assert ring.pick() in (1, 2)
    ring.set_aside(1, "auth", "HTTP 401")
    ring.set_aside(2, "auth", "HTTP 401")
    assert ring.pick() == 0
    ring.set_aside(0, "rate_limited", "HTTP 429")
    assert ring.pick() is None
    assert ring.refusal()[0] == "auth"


def test_keys_from_the_environment_are_comma_separated_and_each_checked(tmp_path: Path) -> None:
    from osint_fanout._plugins import discover

    registry = discover()
    empty = tmp_path / "config.toml"
    empty.write_text("")
    settings = load_settings(registry, empty, env={"VT_API_KEY": f" {KEYS[0]} ,{KEYS[1]}\r\n"})
    vt = settings.options["virustotal"]
    assert [vt.api_key, *vt.api_keys] == [SecretStr(KEYS[0]), SecretStr(KEYS[1])]
    with pytest.raises(ConfigError, match="not shown") as caught:
        load_settings(registry, empty, env={"VT_API_KEY": f"{KEYS[0]},bad key with spaces"})
    assert "bad key" not in str(caught.value)


@pytest.mark.parametrize("empty", ["", ",", ",,", " , ", " ", "\r\n"])
def test_an_empty_key_is_no_key_in_the_environment_and_the_config_alike(tmp_path: Path, empty: str) -> None:
    """One rule for VT_API_KEY, api_key and api_keys: empty (or only commas and spaces) is no key."""
    from osint_fanout._plugins import discover

    registry = discover()
    config = tmp_path / "config.toml"
    config.write_text("")
    assert load_settings(registry, config, env={"VT_API_KEY": empty}).options["virustotal"].api_key is None
    config.write_text(f"[adapters.virustotal]\napi_key = {empty!r}\napi_keys = [{empty!r}, ' ']\n".replace("'", '"'))
    vt = load_settings(registry, config, env={}).options["virustotal"]
    assert (vt.api_key, vt.api_keys) == (None, [])
    config.write_text(f'[adapters.virustotal]\napi_key = "{KEYS[0]}"\n')
    from_file = load_settings(registry, config, env={"VT_API_KEY": empty}).options["virustotal"]
    assert from_file.api_key == SecretStr(KEYS[0])  # an empty variable leaves the file's key in force


@pytest.mark.parametrize("command", [("adapters", "-f", "json"), ("search", "example.com", "-a", "virustotal")])
def test_an_empty_key_variable_is_no_key_for_every_command(world: World, command: tuple[str, ...]) -> None:
    said = world.run_cli(*command, env={"VT_API_KEY": " , "})
    assert "Traceback" not in said.stderr and "internal error" not in said.stderr, said.stderr
    if command[0] == "adapters":
        assert said.code == 0, said.stderr
        row = next(row for row in said.json()["adapters"] if row["name"] == "virustotal")
        assert row["key_configured"] is False
    else:
        assert said.code == 0, said.stderr  # skipped for want of a key, as with no variable at all
        assert "no API key" in said.stdout


def test_end_to_end_a_refused_key_is_said_once_and_the_other_does_the_work(world: World) -> None:
    world.write_config()
    wrong = "wrong-vt-key-0123456789"
    env = {"VT_API_KEY": f"{wrong},{world.keys['virustotal']}"}
    targets = [f"k{n}.example.com" for n in range(6)]
    run = world.run_cli("search", *targets, "-a", "virustotal", "-f", "ndjson", "--no-store", env=env)
    assert run.code == 0, run.stderr
    assert {line["status"] for line in run.ndjson()} == {"ok"}
    said = [line for line in run.stderr.splitlines() if "set aside" in line]
    assert said == [
        "osint-fanout: warning: virustotal: key 1 of 2 was refused (HTTP 401) and is set aside for this run"
    ]
    assert wrong not in run.stdout + run.stderr and world.keys["virustotal"] not in run.stdout + run.stderr
    sent = [r.headers.get("x-apikey") for r in world.requests("virustotal")]
    # those sent before the first refusal came back (six at once: no rate limit here), then never again
    assert 1 <= sent.count(wrong) < len(targets) and len(sent) == len(targets) + sent.count(wrong)
