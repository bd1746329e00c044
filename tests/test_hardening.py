"""End to end against hostile upstreams and stubborn plugins (beside the fault matrix):
bombs in bounded memory, signals while the main thread is busy in C, plugin threads that
must not hold the exit, terminal-safe text at every verbosity, keys at the edges,
addresses that lead inward, output that cannot be written, deep JSON, offline runs."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from osint_fanout._redact import unsafe_char
from tests.plugin_kit import CLI, clean_env, install_plugins, run_cli
from tests.timing import assert_ends_by, assert_within
from tests.world.whois_server import WhoisServer
from tests.world.world import CliResult, World

HOSTILE = (
    "boom \x1b]0;pwned\x07\x1b[2J\x1b]8;;http://evil.test\x1b\\x\x1b]8;;\x1b\\ \x9b31m \u202eevil \u061c\U000e0041"
)
INVISIBLE = "\u061c\U000e0041\u00ad\u3164\u2060\u180e\ufff9\ue000\u2028"


def raw_unsafe(text: str) -> list[str]:
    """Characters a terminal would act on or not show, left raw in `text` (lines aside)."""
    return sorted({repr(c) for c in text if c != "\n" and unsafe_char(c)})


def measured(
    world: World, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[CliResult, float]:
    """Run the CLI; its result and its own peak RSS in MiB: the kernel's high-water mark of
    the process's memory (VmHWM), read until it exits. (wait4's ru_maxrss would count the
    memory of this forking pytest process too.)"""
    started = time.monotonic()
    proc = world.spawn_cli(*args, env=env)
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=lambda: out.append(proc.stdout.read())),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err.append(proc.stderr.read())),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()
    peak_kib = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None and time.monotonic() - started < timeout:
        try:
            line = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
            peak_kib = max(peak_kib, int(line.split()[1]))
        except (OSError, StopIteration, ValueError):
            pass
        time.sleep(0.005)
    proc.wait(timeout)
    for reader in readers:
        reader.join(timeout)
    return CliResult(proc.returncode, out[0], err[0], time.monotonic() - started), peak_kib / 1024


# -- bombs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "error_type"),
    [(2, "parse"), (1, "too_large")],  # gzip of gzip: refused; 1 GiB of gzip: cut at the 16 MiB cap
)
def test_compression_bombs_cost_little_memory(world: World, layers: int, error_type: str) -> None:
    world.write_config(keys=True)
    world.behave("virustotal", "*", "bomb", layers=layers)
    run, rss_mib = measured(world, "search", "example.com", "-a", "virustotal", "-f", "json", env=world.key_env())
    [result] = run.json()["results"]
    assert (result["status"], result["error"]["type"]) == ("error", error_type), result
    assert rss_mib < 150, f"peak RSS {rss_mib:.0f} MiB"
    sent = world.requests("virustotal")[0]
    assert sent.headers["accept-encoding"] == "gzip, deflate"  # nothing it cannot decode in steps


def test_many_parallel_gzip_bombs_stay_bounded(world: World) -> None:
    """50 bombs at once under the default 16 MiB cap: each is refused once it is seen to
    expand over 200-fold, after its first MiB, instead of costing the cap each."""
    targets = [f"198.51.100.{n}" for n in range(1, 51)]
    world.write_config(keys=True, run={"concurrency": 50})
    world.behave("virustotal", "*", "bomb", layers=1)
    run, rss_mib = measured(world, "search", *targets, "-a", "virustotal", "-f", "ndjson", env=world.key_env())
    results = run.ndjson()
    assert len(results) == 50 and {r["error"]["type"] for r in results} == {"too_large"}
    assert "200-fold" in results[0]["error"]["message"]
    assert rss_mib < 150, f"peak RSS {rss_mib:.0f} MiB"


# -- signals and threads -----------------------------------------------------------------


@pytest.mark.parametrize(("signals", "code"), [([signal.SIGTERM], 143), ([signal.SIGINT, signal.SIGINT], 130)])
def test_signals_are_honoured_while_the_main_thread_is_busy_in_c(
    tmp_path: Path, signals: list[signal.Signals], code: int
) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["cruncher", "quick"])
    proc = subprocess.Popen(
        [CLI, "search", "example.com", "-a", "quick,cruncher", "-f", "json"],
        env=clean_env(tmp_path, pythonpath=plugins),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        assert proc.stderr.readline() == "cruncher: crunching\n"  # it now holds the loop, in C, for a minute
        time.sleep(0.2)
        sent = time.monotonic()
        for signum in signals:
            proc.send_signal(signum)
            time.sleep(0.05)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert_ends_by(time.monotonic() - sent, 0)
    assert proc.returncode == code
    [report] = [json.loads(line) for line in stdout.splitlines()]
    statuses = {r["adapter"]: r["status"] for r in report["results"]}
    assert statuses["cruncher"] == "cancelled" and statuses["quick"] in ("ok", "cancelled")
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("plugin", "target"),
    [
        ("to_thread", "example.com"),  # asyncio.to_thread(time.sleep, 3600)
        ("executor", "example.com"),  # loop.run_in_executor(None, time.sleep, 8)
        ("raw_thread", "example.com"),  # threading.Thread(daemon=False) sleeping an hour
        ("pool", "example.com"),  # a concurrent.futures pool of its own
        ("blocking", "hang.example.com"),  # ctx.run_blocking(time.sleep, 3600)
    ],
)
def test_plugin_threads_never_outlive_the_deadline(tmp_path: Path, plugin: str, target: str) -> None:
    plugins = install_plugins(tmp_path / "plugins", [plugin])
    proc, wall_s = run_cli(
        ["search", target, "-a", plugin, "--deadline", "2", "-f", "json"], clean_env(tmp_path, pythonpath=plugins)
    )
    assert_ends_by(wall_s, 2)
    assert proc.returncode == 1
    [report] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["status"] for r in report["results"]] == ["cancelled"]
    # no stray "Exception in callback ... InvalidStateError": only our own lines (the one that
    # says why the exit is 1; on a busy machine, the one that says start-up took long)
    said = [line for line in proc.stderr.splitlines() if "osint-fanout: warning: start-up took" not in line]
    assert said == ["osint-fanout: 1 cancelled; exit 1 (see --summary)"], proc.stderr  # the warning may come after it


def test_run_blocking_returns_what_the_function_returns(tmp_path: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["blocking"])
    env = clean_env(tmp_path, pythonpath=plugins)
    proc, _ = run_cli(["search", "example.com", "-a", "blocking", "-f", "json"], env)
    assert proc.returncode == 0, proc.stderr
    [result] = json.loads(proc.stdout)["results"]
    assert result["data"] == {"total": 45}


# -- terminal-safe text ------------------------------------------------------------------


def test_hostile_upstream_error_is_escaped_at_every_verbosity(world: World) -> None:
    world.write_config(keys=True)
    world.behave("shodan", "*", "custom", status=500, json={"error": HOSTILE})
    for flags in ([], ["-v"], ["-vv"], ["-vvv"]):
        run = world.run_cli("search", "198.51.100.7", "-a", "shodan", "-f", "json", *flags, env=world.key_env())
        assert run.code == 1
        assert raw_unsafe(run.stdout + run.stderr) == [], flags
    assert "\\x1b]0;pwned" in run.json()["results"][0]["error"]["message"]  # shown, inert


def test_tracebacks_at_vvv_are_escaped(tmp_path: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["crasher"])
    proc, _ = run_cli(["search", "example.com", "-a", "crasher", "-vvv"], clean_env(tmp_path, pythonpath=plugins))
    assert "Traceback" in proc.stderr  # -vvv shows it, for adapter authors
    assert raw_unsafe(proc.stdout + proc.stderr) == []


def test_invisible_characters_are_shown_escaped_and_json_stays_exact(tmp_path: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["invisible"])
    env = clean_env(tmp_path, pythonpath=plugins)
    table = tmp_path / "table.txt"
    proc, _ = run_cli(["search", "example.com", "-a", "invisible", "-f", "table", "-o", str(table)], env)
    assert proc.returncode == 0, proc.stderr
    assert raw_unsafe(table.read_text()) == []
    assert "\\u061c" in table.read_text()
    proc, _ = run_cli(["search", "example.com", "-a", "invisible", "-f", "json"], env)
    assert raw_unsafe(proc.stdout) == []
    assert json.loads(proc.stdout)["results"][0]["data"]["text"] == f"a{INVISIBLE}b"
    listing, _ = run_cli(["adapters"], env)
    assert "invisible" in listing.stdout and raw_unsafe(listing.stdout + listing.stderr) == []


# -- keys at the edges -------------------------------------------------------------------


def test_a_key_with_a_trailing_cr_is_stripped_and_never_shown(world: World) -> None:
    world.write_config()
    key = world.keys["virustotal"]
    env = {"VT_API_KEY": key + "\r"}  # from a CRLF .env file
    run = world.run_cli("search", "example.com", "-a", "virustotal", "-f", "json", "-vvv", env=env)
    assert run.code == 0, run.stderr
    assert key not in run.stdout + run.stderr


@pytest.mark.parametrize("bad", ["ab\x01cd-0123456789", "key with spaces 012345", "kéy-0123456789"])
def test_a_key_with_control_or_odd_characters_is_refused_without_showing_it(world: World, bad: str) -> None:
    world.write_config()
    run = world.run_cli("search", "example.com", "-a", "dns,virustotal", env={"VT_API_KEY": bad})
    assert run.code == 2
    [line] = run.stderr.splitlines()
    assert "VT_API_KEY" in line and "not shown" in line
    assert bad not in line and bad[4:] not in line


SECRET = "sk-live-0123456789abcdef"


@pytest.mark.parametrize(
    "section",
    [
        f'[adapters]\nvirustotal = "{SECRET}"\n',
        f'[adapters.virustotal]\nrate_limit = "{SECRET}"\n',
        f'[adapters.virustotal]\nbase_url = "https://www.virustotal.com/api/v3?apikey={SECRET}"\n',
        f'[adapters.shodan]\nbase_url = ["{SECRET}"]\n',
    ],
)
def test_config_errors_never_echo_adapter_values(tmp_path: Path, section: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(section)
    proc, _ = run_cli(["adapters", "--config", str(config)], clean_env(tmp_path))  # reads every section, asks nothing
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1
    assert SECRET not in proc.stderr and "0123456789abcdef" not in proc.stderr


def test_redaction_never_corrupts_the_json(world: World) -> None:
    world.write_config()
    run = world.run_cli("search", "example.com", "198.51.100.7", "-f", "json", env={"VT_API_KEY": "null"})
    reports = [json.loads(line) for line in run.stdout.splitlines()]  # every line is still JSON
    assert len(reports) == 2
    vt = [r for report in reports for r in report["results"] if r["adapter"] == "virustotal"]
    assert {r["status"] for r in vt} == {"error"} and all(r["data"] is None for r in vt)


def test_a_key_is_never_sent_over_plain_http_to_a_remote_host(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    dead_dns = '[adapters.dns]\nnameservers = ["127.0.0.1:9"]\ntimeout_s = 0.3\n'  # never the real resolver
    config.write_text(dead_dns + '[adapters.virustotal]\nbase_url = "http://vt.example.net/api/v3"\n')
    env = clean_env(tmp_path, {"VT_API_KEY": SECRET})
    for command in (["search", "example.com", "-a", "dns,virustotal"], ["adapters"]):
        proc, _ = run_cli([*command, "--config", str(config)], env)  # refused before any query
        assert proc.returncode == 2
        [line] = proc.stderr.splitlines()
        assert "plain http" in line and "allow_plain_http" in line and SECRET not in line
    config.write_text('[adapters.virustotal]\nbase_url = "http://vt.example.net/api/v3"\nallow_plain_http = true\n')
    proc, _ = run_cli(["adapters", "--config", str(config)], env)
    assert proc.returncode == 0, proc.stderr  # the config is accepted


# -- upstream-supplied addresses ---------------------------------------------------------


def test_a_redirect_may_not_lead_inward(world: World) -> None:
    """A public RDAP server (reached through a proxy, so its name needs no DNS) redirects
    to a loopback address: refused, and the trap sees nothing."""
    world.write_config(whois={"rdap_url": "http://rdap.example.net"})
    world.behave("rdap", "198.51.100.7", "redirect", location=f"{world.url('trap')}/internal")
    proxy = {"HTTP_PROXY": world.url("rdap"), "NO_PROXY": "127.0.0.1,127.0.0.2", "no_proxy": "127.0.0.1,127.0.0.2"}
    run = world.run_cli("search", "198.51.100.7", "-a", "whois", "-f", "json", env=proxy)
    [result] = run.json()["results"]
    assert (result["status"], result["error"]["type"]) == ("error", "redirect"), result
    assert "loopback" in result["error"]["message"]
    assert world.requests("rdap")[0].path == "/ip/198.51.100.7"  # the proxy got the request
    assert world.requests("trap") == []


@pytest.fixture
def whois_on_port_43(world: World) -> Any:
    """An IANA-like WHOIS server on port 43 (the machine's tests run as root), referring to
    a Redis-like port that logs whoever connects."""
    listener = socket.create_server(("127.0.0.2", 0))
    connected: list[Any] = []
    threading.Thread(target=lambda: connected.append(listener.accept()), daemon=True).start()
    port = listener.getsockname()[1]
    try:
        server = WhoisServer("iana43", world.log, role="iana", refer=f"127.0.0.2:{port}", host="127.0.0.43", port=43)
    except PermissionError:
        pytest.fail("binding port 43 needs root, which the tests and CI run as")
    server.start()
    yield connected
    server.stop()
    listener.close()


def test_a_whois_referral_keeps_to_port_43(world: World, whois_on_port_43: list[Any]) -> None:
    world.write_config(whois={"whois_server": None, "iana_whois_server": "127.0.0.43:43"})
    world.behave("rdap", "*", "server_error", status=500)
    run = world.run_cli("search", "example.com", "-a", "whois", "-f", "json")
    [result] = run.json()["results"]
    assert (result["status"], result["error"]["type"]) == ("error", "referral"), result
    assert "port 43" in result["error"]["message"]
    time.sleep(0.1)
    assert whois_on_port_43 == []  # nothing was sent to the Redis-like port


# -- output files ------------------------------------------------------------------------


def test_an_existing_output_file_keeps_its_mode(world: World, tmp_path: Path) -> None:
    out = tmp_path / "private.json"
    out.write_text("{}\n")
    out.chmod(0o600)
    world.write_config()
    run = world.run_cli("search", "example.com", "-a", "dns", "-o", str(out))
    assert run.code == 0, run.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    assert json.loads(out.read_text())["results"][0]["status"] == "ok"


def _limited(limit: int) -> Any:
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_full_disk_cuts_ndjson_back_to_its_last_complete_line(world: World, tmp_path: Path) -> None:
    out = tmp_path / "results.ndjson"
    out.write_text('{"earlier": "line"}\n')
    world.write_config()
    targets = [f"t{n}.example.com" for n in range(40)]
    proc = subprocess.run(
        [CLI, "search", *targets, "-a", "dns", "-f", "ndjson", "-o", str(out), "-q", "--no-store"],
        env=world.cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited(6000),  # a "disk" of 6,000 bytes: full after a few lines
        check=False,
    )
    assert proc.returncode == 74
    [line] = proc.stderr.splitlines()
    assert line.startswith("osint-fanout: error: cannot write --output") and "File too large" in line
    text = out.read_text()
    assert text.endswith("\n") and len(text) <= 6000
    lines = text.splitlines()
    assert lines[0] == '{"earlier": "line"}' and len(lines) > 2
    assert all(json.loads(line) for line in lines)


def test_a_full_disk_leaves_the_atomic_file_untouched_and_no_temp(world: World, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    out.write_text("old\n")
    world.write_config()
    proc = subprocess.run(
        [CLI, "search", *[f"t{n}.example.com" for n in range(20)], "-a", "dns", "-f", "json", "-o", str(out),
         "-q", "--no-store"],
        env=world.cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited(3000),
        check=False,
    )
    assert proc.returncode == 74
    assert len(proc.stderr.splitlines()) == 1 and "cannot write" in proc.stderr
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "world"]


def test_dev_full_is_one_line_and_exit_74(world: World) -> None:
    world.write_config()
    for args in (["-o", "/dev/full", "-f", "ndjson"], ["-o", "/dev/full"]):
        run = world.run_cli("search", "example.com", "-a", "dns", *args)
        assert run.code == 74
        assert run.stderr.splitlines() == [
            "osint-fanout: error: cannot write --output /dev/full: No space left on device; "
            "nothing was left half-written"
        ]


# -- deep JSON and long lines ------------------------------------------------------------


def test_a_deep_resume_line_is_skipped(world: World, tmp_path: Path) -> None:
    out = tmp_path / "results.ndjson"
    out.write_bytes(b"[" * 100_000 + b"]" * 100_000 + b"\n")
    world.write_config()
    run = world.run_cli("search", "example.com", "-a", "dns", "-f", "ndjson", "-o", str(out), "--resume")
    assert run.code == 0, run.stderr
    assert json.loads(out.read_text().splitlines()[-1])["status"] == "ok"


def test_a_huge_resume_line_is_not_read_whole(world: World, tmp_path: Path) -> None:
    out = tmp_path / "results.ndjson"
    with out.open("wb") as handle:
        for _ in range(200):
            handle.write(b"x" * (1 << 20))  # 200 MiB, no newline
    world.write_config()
    run, rss_mib = measured(world, "search", "example.com", "-a", "dns", "-f", "ndjson", "-o", str(out), "--resume")
    assert run.code == 0, run.stderr
    assert rss_mib < 150, f"peak RSS {rss_mib:.0f} MiB"


def test_a_deep_bootstrap_cache_is_discarded(world: World) -> None:
    from osint_fanout_adapters.rdap_bootstrap import cache_dir

    world.write_config(whois={"rdap_url": None})
    env = world.cli_env()
    folder = Path(env["XDG_CACHE_HOME"]) / cache_dir(world.url("bootstrap")).relative_to(
        cache_dir(world.url("bootstrap")).parents[1]
    )
    folder.mkdir(parents=True)
    for name in ("dns", "ipv4", "ipv6"):
        (folder / f"{name}.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    run = world.run_cli("search", "example.com", "-a", "whois", "-f", "json")
    assert run.code == 0, run.stderr
    assert run.json()["results"][0]["data"]["source"] == "rdap"
    assert json.loads((folder / "dns.json").read_bytes())["services"]  # replaced by a fresh copy


# -- offline, proxies, odd paths, limits -------------------------------------------------

HOSTS_ONLY = "hosts: files\n"


def test_an_offline_name_failure_is_not_retried(tmp_path: Path) -> None:
    """In a network namespace of its own, where names resolve from /etc/hosts only (so the
    test asks no DNS server), an unknown host fails at once, without retries."""
    unshare = shutil.which("unshare")
    assert unshare is not None, "util-linux's unshare is needed (it is on every machine of this kind)"
    nsswitch = tmp_path / "nsswitch.conf"
    nsswitch.write_text(HOSTS_ONLY)
    config = tmp_path / "config.toml"
    config.write_text('[adapters.shodan]\ninternetdb_url = "https://internetdb.example.net"\n')
    script = f'mount --bind {nsswitch} /etc/nsswitch.conf && exec "$@"'
    started = time.monotonic()
    search = [CLI, "search", "198.51.100.7", "-a", "shodan", "-c", str(config)]
    proc = subprocess.run(
        [unshare, "-m", "-n", "sh", "-c", script, "sh", *search],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    wall_s = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    [result] = json.loads(proc.stdout)["results"]
    assert result["error"]["type"] == "network"
    assert "cannot resolve internetdb.example.net" in result["error"]["message"]
    assert result["waited_ms"] == 0  # no retry, no wait: it failed at once
    assert_within(wall_s, 2.0)


def dead_dns(folder: Path) -> Path:
    """A config whose dns asks a loopback port nobody answers: a test that expects a usage
    error cannot reach the real resolver, even should the check it tests fail."""
    config = folder / "dead-dns.toml"
    config.write_text('[adapters.dns]\nnameservers = ["127.0.0.1:9"]\ntimeout_s = 0.3\n')
    return config


def test_a_malformed_proxy_variable_is_a_usage_error(tmp_path: Path) -> None:
    env = clean_env(tmp_path, {"HTTPS_PROXY": "foo://user:pw@x"})
    proc, _ = run_cli(["search", "example.com", "-a", "dns", "-c", str(dead_dns(tmp_path))], env)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "osint-fanout: error: HTTPS_PROXY in the environment is not a usable proxy: "
        "the scheme 'foo' is not one of http, https, socks5, socks5h"
    ]


@pytest.mark.parametrize("content", [None, "not a certificate\n"])
def test_an_unusable_ca_file_in_the_environment_is_a_usage_error(tmp_path: Path, content: str | None) -> None:
    ca = tmp_path / "ca-secret-name.pem"
    if content is not None:
        ca.write_text(content)
    env = clean_env(tmp_path, {"SSL_CERT_FILE": str(ca)})
    env.pop("SSL_CERT_DIR", None)
    config = tmp_path / "config.toml"  # loopback upstreams: nothing leaves, even should the check fail
    config.write_text('[adapters.ct]\ncrtsh_url = "https://127.0.0.1:9"\ncertspotter_url = "https://127.0.0.1:9"\n')
    proc, _ = run_cli(["search", "example.com", "-a", "ct", "--no-store", "-c", str(config)], env)
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert line.startswith("osint-fanout: error: SSL_CERT_FILE: cannot load the CA certificates")
    assert "ca-secret-name" not in line


def test_an_output_path_is_escaped_in_errors(tmp_path: Path) -> None:
    bad = tmp_path / "missing\x1b]0;title\x07dir" / "out.json"
    dead = dead_dns(tmp_path)
    proc, _ = run_cli(["search", "example.com", "-a", "dns", "-o", str(bad), "-c", str(dead)], clean_env(tmp_path))
    assert proc.returncode == 2
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr and "\\x1b]0;title" in proc.stderr


def test_config_must_be_a_bounded_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"# " + b"x" * (2 << 20))
    for path, why in (("/dev/zero", "not a regular file"), (str(fifo), "not a regular file"), (str(huge), "KiB")):
        proc, wall_s = run_cli(["search", "example.com", "--config", path], clean_env(tmp_path), timeout=120)
        assert proc.returncode == 2
        assert_within(wall_s, 5, path)  # refused at once, not read
        [line] = proc.stderr.splitlines()
        assert why in line


def test_max_time_counts_targets_never_started(tmp_path: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["sleeper"])
    targets = tmp_path / "targets.txt"
    targets.write_text("".join(f"t{n}.example.com\n" for n in range(50)))
    proc, _ = run_cli(
        ["search", "-i", str(targets), "-a", "sleeper", "--concurrency", "5", "--max-time", "1", "-f", "ndjson",
         "--summary"],
        clean_env(tmp_path, pythonpath=plugins),
    )
    summary = json.loads(proc.stdout.splitlines()[-1])["summary"]
    # Every target started was cancelled: none at all when start-up on a busy machine took the 1 s.
    assert summary["results"] == ({"cancelled": summary["targets"]} if summary["targets"] else {})
    assert summary["targets_read"] + summary["not_started"] == 50
    assert summary["not_started"] >= 40
    assert f"{summary['not_started']} not started" in proc.stderr
