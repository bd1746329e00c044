"""A newcomer's first steps: the help that shows the way, `paths`, plain errors, pasted
targets read with a note, the search table on a narrow terminal, the world that changes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.plugin_kit import clean_env, run_cli
from tests.terminal import Terminal
from tests.world.states import NEW_PORT, NEW_REGISTRAR, set_state
from tests.world.world import World

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path, {"COLUMNS": "100", "TERM": "dumb", "XDG_DATA_HOME": str(tmp_path / "data")})


# -- finding one's way ----------------------------------------------------------------


def test_the_top_level_help_has_examples_and_says_where_the_reference_is(env: dict[str, str]) -> None:
    proc, _ = run_cli(["--help"], env)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "Examples:" in text and "osint-fanout search example.com" in text and "osint-fanout paths" in text
    assert "paths" in text.split("─ Commands ", 1)[1]
    assert "README" not in text
    for name in re.findall(r"\b([a-z]+)(?=[,)])", text.split("docs/*.md", 1)[1]):
        assert (ROOT / "docs" / f"{name}.md").is_file(), name  # every page it names exists


@pytest.mark.parametrize("command", ["search", "history", "diff", "prune"])
def test_no_help_sends_the_reader_to_the_readme_without_an_address(env: dict[str, str], command: str) -> None:
    proc, _ = run_cli([command, "--help"], env)
    assert "More in the README" not in proc.stdout
    for page in re.findall(r"docs/([a-z]+)\.md", proc.stdout):
        assert (ROOT / "docs" / f"{page}.md").is_file(), page


def test_metavars_are_the_same_everywhere(env: dict[str, str]) -> None:
    history, _ = run_cli(["history", "--help"], env)
    assert "Usage: osint-fanout history [OPTIONS] TARGET " in history.stdout
    assert "{TARGET}" not in history.stdout
    assert "--adapters" in history.stdout and "NAME[,NAME...]" in history.stdout
    schema, _ = run_cli(["schema", "--help"], env)
    assert "Usage: osint-fanout schema [OPTIONS] [NAME]" in schema.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["search", "-f", "xml", "example.com"],
            "Invalid value for '--format' / '-f': 'xml' is not one of: table, json, ndjson",
        ),
        (["schema", "xml"], "Invalid value for 'NAME': 'xml' is not one of: json, ndjson, changes"),
        (["adapters", "-f", "yaml"], "Invalid value for '--format' / '-f': 'yaml' is not one of: table, json"),
        (["search", "--timeout", "soon", "example.com"], "Invalid value for '--timeout': give a number, not 'soon'"),
        (
            ["search", "--concurrency", "many", "example.com"],
            "Invalid value for '--concurrency': give a whole number, not 'many'",
        ),
        (
            ["history", "--limit", "0", "example.com"],
            "Invalid value for '--limit': give a number of at least 1, not '0'",
        ),
    ],
)
def test_values_that_do_not_convert_are_explained_in_our_words(env: dict[str, str], args: list[str], said: str) -> None:
    proc, _ = run_cli(args, env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"osint-fanout: error: {said} (see --help)"


def test_a_rate_limit_error_shows_the_value_in_our_words(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[adapters.virustotal]\nrate_limit = "4/min"\n')
    proc, _ = run_cli(["adapters", "-c", str(config)], env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"osint-fanout: error: config {config}: [adapters.virustotal] rate_limit: rate limit '4/min' is not like "
        "'4/m' (a whole number per s, m, h or d, or 'off')"
    )


def test_paths_says_where_config_and_store_are_and_why(env: dict[str, str], tmp_path: Path) -> None:
    proc, _ = run_cli(["paths"], env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert (
        lines[0]
        == f"config  {tmp_path}/config/osint-fanout/config.toml  (default, not there: every setting has its default)"
    )
    assert lines[1] == f"store   sqlite:///{tmp_path}/data/osint-fanout/store.db  (default)"
    assert lines[2].startswith(f"cache   {tmp_path}/cache") and lines[3].startswith("quotas  ")
    config = tmp_path / "mine.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/team.db"\n')
    chosen, _ = run_cli(["paths", "-f", "json"], env | {"OSINT_FANOUT_CONFIG": str(config)})
    places = json.loads(chosen.stdout)
    assert places["config"] == {"path": str(config), "from": "$OSINT_FANOUT_CONFIG", "exists": True}
    assert places["store"] == {"url": f"sqlite:///{tmp_path}/team.db", "from": "[store] url"}
    flagged, _ = run_cli(["paths", "--store", "postgresql://osint:s3cret@db/osint", "-c", str(config)], env)
    assert "store   postgresql://osint:***@db/osint  (--store)" in flagged.stdout and "s3cret" not in flagged.stdout


def test_paths_with_a_broken_config_still_says_where_it_is(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[run\n")
    proc, _ = run_cli(["paths", "-c", str(config)], env)
    assert proc.returncode == 2
    assert proc.stdout.startswith(f"config  {config}  (--config)")
    assert proc.stderr.strip().startswith(f"osint-fanout: error: config {config}: not valid TOML")


# -- history --adapters, and a store that records a changing world ---------------------------


def test_history_takes_adapters_in_the_plural_and_the_old_spelling(world: World) -> None:
    world.write_config(keys=True)
    assert world.run_cli("search", "example.com", "-a", "dns,whois,ct", "-f", "json").code == 0
    both = world.run_cli("history", "example.com", "--adapters", "dns,whois", "-f", "ndjson")
    assert both.code == 0, both.stderr
    assert sorted(r["adapter"] for r in both.ndjson()) == ["dns", "whois"]
    old = world.run_cli("history", "example.com", "--adapter", "ct", "-f", "ndjson")
    assert [r["adapter"] for r in old.ndjson()] == ["ct"]
    repeated = world.run_cli("history", "example.com", "-a", "dns", "-a", "ct", "-f", "ndjson")  # as search's -a
    assert sorted(r["adapter"] for r in repeated.ndjson()) == ["ct", "dns"]
    limited = world.run_cli("history", "example.com", "-a", "dns,whois,ct", "--limit", "2", "-f", "ndjson")
    assert len(limited.ndjson()) == 2


def test_the_world_in_its_second_state_gives_diff_every_kind_of_change(world: World) -> None:
    world.write_config(keys=True)
    targets = ("example.com", "198.51.100.7")
    assert world.run_cli("search", *targets, "-f", "json").code == 0
    set_state(world, changed=True)
    assert world.run_cli("search", *targets, "-f", "json").code == 0
    diff = world.run_cli("diff", *targets, "-f", "ndjson")
    assert diff.code == 1, diff.stderr
    events = diff.ndjson()
    assets = {(e["target"], e["change"], e["type"], e["value"]) for e in events if e["change"] in ("new", "gone")}
    found = {
        (e["target"], e["adapter"], e["fact"], e["change"], e.get("value", e.get("after")))
        for e in events
        if e["change"] not in ("new", "gone")
    }
    assert found == {
        ("example.com", "ct", "subdomains", "added", "vpn.example.com"),
        ("example.com", "whois", "registrar", "changed", NEW_REGISTRAR),
        ("198.51.100.7", "shodan", "ports", "added", str(NEW_PORT)),
    }
    assert assets == {  # the same news as assets: a new name, a new service, another registrar
        ("example.com", "new", "domain-name", "vpn.example.com"),
        ("example.com", "new", "organization", NEW_REGISTRAR),
        ("example.com", "gone", "organization", "Example Registrar, LLC"),
        ("198.51.100.7", "new", "service", f"198.51.100.7:{NEW_PORT}/tcp"),
    }
    set_state(world, changed=False)  # and back: the same changes, reversed
    assert world.run_cli("search", *targets, "-f", "json").code == 0
    back = world.run_cli("diff", *targets, "-f", "ndjson")
    assert {(e["adapter"], e["change"]) for e in back.ndjson() if e["change"] not in ("new", "gone")} == {
        ("ct", "removed"),
        ("whois", "changed"),
        ("shodan", "removed"),
    }
    assert {(e["change"], e["value"]) for e in back.ndjson() if e["change"] in ("new", "gone")} == {
        ("gone", "vpn.example.com"),
        ("gone", NEW_REGISTRAR),
        ("new", "Example Registrar, LLC"),
        ("gone", f"198.51.100.7:{NEW_PORT}/tcp"),
    }


# -- targets people paste -------------------------------------------------------------------


def test_pasted_targets_are_searched_with_a_note_and_ranges_refused(world: World, tmp_path: Path) -> None:
    world.write_config()
    run = world.run_cli("search", "user@example.com", "example.net:8443", "-a", "dns", "-f", "ndjson")
    assert run.code == 0, run.stderr
    assert sorted(r["target"]["value"] for r in run.ndjson()) == ["example.com", "example.net"]
    assert "osint-fanout: warning: 'user@example.com' is an e-mail address: searching example.com" in run.stderr
    assert "8443" not in run.stderr  # host:port is read like a URL, silently
    listed = tmp_path / "pasted.txt"
    listed.write_text("*.example.org\nexample[.]com\n198.51.100.0/24\n")
    bulk = world.run_cli("search", "-i", str(listed), "-a", "dns", "-f", "ndjson")
    assert f"{listed}:1: '*.example.org' is a wildcard: searching example.org" in bulk.stderr
    assert f"{listed}:2: 'example[.]com' is a defanged indicator: searching example.com" in bulk.stderr
    assert f"{listed}:3: invalid target '198.51.100.0/24': CIDR ranges are not supported as targets" in bulk.stderr
    cidr = world.run_cli("search", "198.51.100.0/24", "-a", "dns")
    assert cidr.code == 2
    assert cidr.stderr.strip() == (
        "osint-fanout: error: invalid target '198.51.100.0/24': CIDR ranges are not supported as targets; "
        "list the addresses"
    )


# -- the search table on a narrow terminal --------------------------------------------------


@pytest.mark.parametrize("columns", [30, 50])
def test_the_search_table_keeps_what_was_found_on_a_narrow_terminal(world: World, columns: int) -> None:
    world.write_config(keys=True)
    with Terminal("search", "example.com", env=world.cli_env(), cwd=world.home, columns=columns) as term:
        code = term.wait()
        lines = term.transcript()
    text = "\n".join(lines)
    assert code == 0, text
    assert all(len(line) <= columns for line in lines)
    assert "found" in text and "…" not in text
    joined = "".join(line.split("│")[2].strip() for line in lines if line.count("│") == 3)
    assert "subdomains" in joined and "registrarExampleRegistrar" in joined.replace(" ", "")
    for adapter in ("ct", "dns", "shodan", "virustotal", "whois"):
        assert re.search(rf"│ {adapter} +│", text), adapter
