"""The fault matrix: every adapter against every way its upstream can fail, end to end.

The plans come from the world's services (tests/world/services.py: each declares what it
serves and how its adapter meets its faults) and from the adapter registry; the machinery
is tests/fault_kit.py. Each plan runs the installed CLI once, against the loopback world,
with one target per fault (faults are chosen per target), and checks for every target: the
faulted adapter's status and error type, the other adapters' results intact, the run
inside its deadline, valid JSON or NDJSON on stdout, the documented exit code, no
traceback, no key anywhere but in the requests to its own services.
"""

from __future__ import annotations

import json
import signal
import time

import pytest

from osint_fanout._plugins import discover
from tests.fault_kit import assert_keys_stay_home, plans, run_plan
from tests.timing import assert_ends_by
from tests.world.faults import HANG
from tests.world.services import default_services
from tests.world.world import World

PLANS = {plan.name: plan for plan in plans(default_services(), discover().adapters)}


@pytest.mark.parametrize("plan_name", list(PLANS))
def test_fault_matrix(world: World, plan_name: str) -> None:
    fmt = "ndjson" if list(PLANS).index(plan_name) % 2 else "json"
    run_plan(world, PLANS[plan_name], fmt=fmt)


def test_every_adapter_of_the_world_is_in_the_matrix(world: World) -> None:
    """A service leaves the matrix only with a reason, and no adapter is left out."""
    planned = {plan.service for plan in PLANS.values()}
    for service in world.services.values():
        assert service.name in planned or service.matrix.skip, f"{service.name}: no plan and no reason"
    assert {plan.adapter for plan in PLANS.values()} == set(world.adapters())


def test_everything_hanging_at_once_ends_by_the_deadline(world: World) -> None:
    world.write_config(keys=True)
    world.behave("*", "*", "hang")
    world.behave("dns", "*", "hang")
    run = world.run_cli("search", "example.com", "-f", "json", "--deadline", "3", env=world.key_env())
    assert_ends_by(run.wall_s, 3)
    assert run.code == 1
    statuses = {r["adapter"]: r["status"] for r in run.json()["results"]}
    assert set(statuses) == set(world.adapters())
    assert statuses.pop("asn") == "skipped"  # it asks about addresses only
    assert set(statuses.values()) <= HANG
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_prints_what_arrived(world: World, signum: signal.Signals, code: int) -> None:
    world.write_config(keys=True)
    world.behave("virustotal", "*", "hang")
    world.behave("crtsh", "*", "hang")
    world.behave("certspotter", "*", "hang")
    proc = world.spawn_cli("search", "example.com", "-f", "ndjson", "-x", "asn", env=world.key_env())  # asn: IPs only
    assert proc.stdout is not None
    first = [proc.stdout.readline() for _ in range(3)]  # dns, whois and shodan answer at once
    sent = time.monotonic()
    proc.send_signal(signum)
    rest, stderr = proc.communicate(timeout=30)
    stdout = "".join(first) + rest
    assert_ends_by(time.monotonic() - sent, 0)
    assert proc.returncode == code
    statuses = {line["adapter"]: line["status"] for line in map(json.loads, stdout.splitlines())}
    assert statuses == {"dns": "ok", "whois": "ok", "shodan": "ok", "ct": "cancelled", "virustotal": "cancelled"}
    assert "Traceback" not in stderr


HOSTILE = "[bold red]x[/] [link=http://evil.test]y[/link] \x1b[2J\x1b]0;pwned\x07 \u202eevil\u200b " + "z" * 3000
ESCAPES = ("\x1b[2J", "\x1b]0;", "\x07", "\u202e", "\u200b")


def test_hostile_upstream_text_is_inert_on_the_terminal_and_exact_in_json(world: World) -> None:
    world.write_config(keys=True)
    world.add_records(
        "hostile.example.com",
        {"TXT": ['"[bold red]x[/] \\027[2J\\027]0;pwned\\007 \\226\\128\\174evil"'], "A": ["198.51.100.7"]},
    )
    world.behave(
        "crtsh",
        "hostile.example.com",
        "normal",
        replace={"C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1": HOSTILE},
    )
    world.behave("rdap", "hostile.example.com", "normal", replace={"Example Registrar, LLC": HOSTILE})
    world.behave("virustotal", "hostile.example.com", "normal", replace={"MarkMonitor Inc.": HOSTILE})
    env = world.key_env() | {"FORCE_COLOR": "1", "COLUMNS": "200"}
    table = world.run_cli("search", "hostile.example.com", "-f", "table", env=env)
    assert table.code == 0, table.stderr
    for raw in ESCAPES:
        assert raw not in table.stdout and raw not in table.stderr
    assert "[bold red]x[/]" in table.stdout and "\\x1b[2J" in table.stdout
    assert "\x1b[" in table.stdout  # Rich's own colours do get through: FORCE_COLOR is honoured

    data = world.run_cli("search", "hostile.example.com", "-f", "json", env=world.key_env())
    for raw in ESCAPES:
        assert raw not in data.stdout
    results = {r["adapter"]: r for r in data.json()["results"]}
    assert "[bold red]x[/] \x1b[2J\x1b]0;pwned\x07 \u202eevil" in results["dns"]["data"]["records"]["TXT"]
    assert HOSTILE in {cert["issuer"] for cert in results["ct"]["data"]["certificates"]}
    assert results["whois"]["data"]["registrar"] == HOSTILE


def test_hostile_whois_text_is_inert(world: World) -> None:
    world.write_config(whois={"rdap_url": None, "bootstrap_url": world.url("bootstrap")})
    answer = (
        "   Domain Name: HOSTILE.EXAMPLE.COM\r\n   Registrar: \x1b[2J[bold]Evil[/bold]\x07 Registrar\r\n"
        "   Creation Date: 1995-08-14T04:00:00Z\r\n"
    )
    world.behave("rdap", "hostile.example.com", "server_error")
    world.behave("whois", "hostile.example.com", "custom", body=answer)
    run = world.run_cli(
        "search", "hostile.example.com", "-a", "whois", "-f", "table", env={"FORCE_COLOR": "1", "COLUMNS": "200"}
    )
    assert run.code == 0, run.stderr
    assert "\x1b[2J" not in run.stdout and "\x07" not in run.stdout
    assert "[bold]Evil[/bold]" in run.stdout


def test_the_most_verbose_logging_never_shows_a_key(world: World) -> None:
    world.write_config(keys=True)
    world.behave("shodan", "*", "server_error", times=1)  # a retry, logged
    world.behave("virustotal", "*", "unauthorized")  # an error echoing the request
    run = world.run_cli("search", "example.com", "198.51.100.7", "-f", "ndjson", "-vvv", env=world.key_env())
    assert "GET" in run.stderr and "HTTP Request" in run.stderr  # httpx's own lines are shown at -vvv
    assert_keys_stay_home(world, run.stdout + run.stderr)
