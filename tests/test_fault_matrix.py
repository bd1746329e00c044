"""The fault matrix: every adapter against every way its upstream can fail, end to end.

Each plan runs the installed CLI once, against the loopback world, with one target per
fault (faults are chosen per target), and checks for every target: the faulted adapter's
status and error type, the other adapters' results intact, the run inside its deadline,
valid JSON or NDJSON on stdout, the documented exit code, no traceback, no key anywhere
but in the requests to its own service.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest

from osint_fanout._schema import SCHEMA_DIR
from tests.world.world import World

DEADLINE_S = 3.0
ARGS = ("--timeout", "2", "--deadline", str(DEADLINE_S), "--concurrency", "200", "-vv")
SCHEMAS = {name: json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text()) for name in ("json", "ndjson")}
KEY_SERVICES = {"shodan": {"shodan"}, "virustotal": {"virustotal"}, "ct": {"certspotter"}}
HANG = {"timeout", "cancelled"}

# fault name -> (behaviour, its parameters)
HTTP_FAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "slow": ("slow", {"delay_s": 0.5}),
    "hang": ("hang", {}),
    "reset": ("reset", {}),
    "rate-limit-once": ("rate_limit", {"times": 1}),
    "rate-limit-retry-after": ("rate_limit", {"retry_after": 1, "times": 1}),
    "rate-limit-forever": ("rate_limit", {"retry_after": 3600}),
    "server-error": ("server_error", {}),
    "malformed": ("malformed", {}),
    "wrong-shape": ("wrong_shape", {}),
    "not-found": ("not_found", {}),
    "unauthorized": ("unauthorized", {}),
    "endless": ("endless", {}),
    "redirect": ("redirect", {}),
    "gzip-bomb": ("bomb", {"layers": 1}),
    "stacked-bomb": ("bomb", {"layers": 2}),
    "brotli-unasked": ("bomb", {"layers": 1, "encoding": "br"}),
    "deep-json": ("deep", {}),
}
# What an adapter with no fallback source makes of each: (statuses allowed, error type).
DIRECT: dict[str, tuple[set[str], str | None]] = {
    "slow": ({"ok"}, None),
    "hang": (HANG, None),
    "reset": ({"error"}, "network"),
    "rate-limit-once": ({"ok"}, None),
    "rate-limit-retry-after": ({"ok"}, None),
    "rate-limit-forever": ({"error"}, "rate_limited"),
    "server-error": ({"error"}, "http"),
    "malformed": ({"error"}, "parse"),
    "wrong-shape": ({"error"}, "parse"),
    "not-found": ({"empty"}, None),
    "unauthorized": ({"error"}, "auth"),
    "endless": ({"error"}, "too_large"),
    "redirect": ({"error"}, "redirect"),  # the request carries a key: refused, the trap sees nothing
    "gzip-bomb": ({"error"}, "too_large"),  # counted while it is decoded, in 64 KiB steps
    "stacked-bomb": ({"error"}, "parse"),  # stacked encodings are refused before any decoding
    "brotli-unasked": ({"error"}, "parse"),  # only what is advertised is decoded
    "deep-json": ({"error"}, "parse"),
}


@dataclass
class Plan:
    adapter: str
    service: str
    faults: dict[str, tuple[str, dict[str, Any]]]
    expect: dict[str, tuple[set[str], str | None]]
    ip: bool = False
    keys: bool = True
    before: tuple[str, str, dict[str, Any]] | None = None
    """A fault on another service first (e.g. crt.sh failing, so that Cert Spotter is asked)."""
    source: dict[str, str] = field(default_factory=dict)
    """Which source must have answered, for faults that a fallback absorbs."""


PLANS = {
    "virustotal": Plan("virustotal", "virustotal", HTTP_FAULTS, DIRECT),
    "virustotal-ip": Plan("virustotal", "virustotal", HTTP_FAULTS, DIRECT, ip=True),
    "shodan": Plan("shodan", "shodan", HTTP_FAULTS, DIRECT),
    "shodan-ip": Plan("shodan", "shodan", HTTP_FAULTS, DIRECT, ip=True),
    "internetdb": Plan(
        "shodan",
        "internetdb",
        HTTP_FAULTS,
        DIRECT | {"redirect": ({"error"}, "parse")},  # keyless: followed, and the trap's answer is no InternetDB one
        ip=True,
        keys=False,
    ),
    "ct-crtsh": Plan(
        "ct",
        "crtsh",
        HTTP_FAULTS,
        {name: ({"ok"}, None) for name in HTTP_FAULTS} | {"not-found": ({"empty"}, None)},
        source={
            name: "certspotter"
            for name in HTTP_FAULTS
            if name not in ("slow", "rate-limit-once", "rate-limit-retry-after", "not-found")
        },
    ),
    "ct-certspotter": Plan("ct", "certspotter", HTTP_FAULTS, DIRECT, before=("crtsh", "malformed", {})),
    "whois-rdap": Plan(
        "whois",
        "rdap",
        HTTP_FAULTS,
        DIRECT
        | {name: ({"ok"}, None) for name in ("hang", "reset", "server-error")}
        | {"redirect": ({"error"}, "parse")},  # keyless: followed, and the trap is no RDAP server
        source={"hang": "whois", "reset": "whois", "server-error": "whois", "slow": "rdap"},
    ),
    "whois-port43": Plan(
        "whois",
        "whois",
        {
            name: (name, params)
            for name, params in [
                ("slow", {"delay_s": 0.3}),
                ("hang", {}),
                ("reset", {}),
                ("garbage", {}),
                ("not_found", {}),
                ("endless", {}),
            ]
        },
        {
            "slow": ({"ok"}, None),
            "hang": (HANG, None),
            "reset": ({"error"}, "network"),
            "garbage": ({"error"}, "parse"),
            "not_found": ({"empty"}, None),
            "endless": ({"error"}, "too_large"),
        },
        before=("rdap", "server_error", {"status": 500}),  # 500 is not retried: port 43 gets the time
        source={"slow": "whois"},
    ),
    "dns": Plan(
        "dns",
        "dns",
        {
            name: (name, {"delay_s": 0.5} if name == "slow" else {})
            for name in ("slow", "hang", "servfail", "refused", "nxdomain")
        },
        {
            "slow": ({"ok"}, None),
            "hang": (HANG, None),
            "servfail": ({"error"}, "servfail"),
            "refused": ({"error"}, "refused"),
            "nxdomain": ({"empty"}, None),
        },
    ),
}
# What the other adapters must still say, per target kind (no fault on their upstreams).
INTACT = {
    False: {"dns": {"ok"}, "whois": {"ok"}, "ct": {"ok"}, "shodan": {"ok"}, "virustotal": {"ok"}},
    True: {"dns": {"ok", "empty"}, "whois": {"ok"}, "ct": {"skipped"}, "shodan": {"ok"}, "virustotal": {"ok"}},
}


def target_for(plan_name: str, index: int, fault: str, ip: bool) -> str:
    return f"198.51.100.{10 + index}" if ip else f"{fault}.{plan_name}.example.com"


@pytest.mark.parametrize("plan_name", list(PLANS))
def test_fault_matrix(world: World, plan_name: str) -> None:
    plan = PLANS[plan_name]
    world.write_config(keys=plan.keys, run={"max_body_bytes": 1 << 20})
    targets: dict[str, str] = {}
    for index, (fault, (behaviour, params)) in enumerate(plan.faults.items()):
        target = target_for(plan_name, index, fault, plan.ip)
        targets[target] = fault
        if plan.before:
            world.behave(plan.before[0], target, plan.before[1], **plan.before[2])
        world.behave(plan.service, target, behaviour, **params)
    fmt = "ndjson" if list(PLANS).index(plan_name) % 2 else "json"
    run = world.run_cli("search", *targets, "-f", fmt, *ARGS, env=world.key_env() if plan.keys else {})

    assert run.wall_s < DEADLINE_S + 0.5, f"{plan_name} took {run.wall_s:.2f} s"
    assert "Traceback" not in run.stderr
    results = _results(run.stdout, fmt)
    assert {r["target"]["value"] for r in results} == set(targets)
    failed = False
    for result in results:
        fault = targets[result["target"]["value"]]
        status, error_type = result["status"], (result["error"] or {}).get("type")
        failed |= status in ("error", "timeout", "cancelled")
        where = f"{plan_name}/{fault}/{result['adapter']}: {status} {result['error']}"
        if result["adapter"] != plan.adapter:
            intact = {"skipped"} if result["adapter"] == "virustotal" and not plan.keys else INTACT[plan.ip]
            assert status in (intact if isinstance(intact, set) else intact[result["adapter"]]), where
            continue
        statuses, expected_type = plan.expect[fault]
        assert status in statuses, where
        if expected_type is not None:
            assert error_type == expected_type, where
        if fault in plan.source:
            assert result["data"]["source"] == plan.source[fault], where
    assert run.code == (1 if failed else 0)
    _assert_keys_stay_home(world, run.stdout + run.stderr)


def _results(stdout: str, fmt: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    for line in lines:
        jsonschema.validate(line, SCHEMAS[fmt])
    if fmt == "ndjson":
        return lines
    return [result | {"target": report["target"]} for report in lines for result in report["results"]]


def _assert_keys_stay_home(world: World, output: str) -> None:
    for adapter, key in world.keys.items():
        assert key not in output, f"the {adapter} key leaked into the output"
        for request in world.requests():
            if key in request.raw or any(key in value for value in request.headers.values()):
                assert request.service in KEY_SERVICES[adapter], f"the {adapter} key reached {request.service}"
    assert not [r for r in world.requests("trap") if any(k in r.raw for k in world.keys.values())]


def test_everything_hanging_at_once_ends_by_the_deadline(world: World) -> None:
    world.write_config(keys=True)
    world.behave("*", "*", "hang")
    world.behave("dns", "*", "hang")
    run = world.run_cli("search", "example.com", "-f", "json", "--deadline", "3", env=world.key_env())
    assert run.wall_s < 3.5
    assert run.code == 1
    statuses = {r["adapter"]: r["status"] for r in run.json()["results"]}
    assert set(statuses) == {"dns", "whois", "ct", "shodan", "virustotal"}
    assert set(statuses.values()) <= HANG
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_prints_what_arrived(world: World, signum: signal.Signals, code: int) -> None:
    world.write_config(keys=True)
    world.behave("virustotal", "*", "hang")
    world.behave("crtsh", "*", "hang")
    world.behave("certspotter", "*", "hang")
    proc = world.spawn_cli("search", "example.com", "-f", "ndjson", env=world.key_env())
    assert proc.stdout is not None
    first = [proc.stdout.readline() for _ in range(3)]  # dns, whois and shodan answer at once
    sent = time.monotonic()
    proc.send_signal(signum)
    rest, stderr = proc.communicate(timeout=10)
    stdout = "".join(first) + rest
    assert time.monotonic() - sent < 1.0
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
    _assert_keys_stay_home(world, run.stdout + run.stderr)
