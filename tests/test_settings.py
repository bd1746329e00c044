"""Configuration: file, environment and flags; every mistake is one line naming the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field

from osint_fanout import Adapter, AdapterOptions, Context, KeyPolicy, Target, TargetKind
from osint_fanout._plan import Flags, ready_adapters
from osint_fanout._plugins import Registry
from osint_fanout._ratelimit import RateLimit
from osint_fanout._redact import redact
from osint_fanout._settings import ConfigError, load_settings


class KeyedOptions(AdapterOptions):
    base_url: str = Field("https://api.example.test", description="Where the API lives.")


class Keyed(Adapter[KeyedOptions]):
    name = "keyed"
    description = "needs a key"
    kinds = frozenset({TargetKind.DOMAIN})
    key = KeyPolicy.REQUIRED
    key_env = "KEYED_API_KEY"
    default_timeout_s = 7.0
    Options = KeyedOptions
    rate_limits = {"api": "4/m", "other": "1/s"}

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        return {}


class Plain(Adapter[AdapterOptions]):
    name = "plain"
    description = "no key"
    kinds = frozenset(TargetKind)

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        return {}


REGISTRY = Registry(adapters={"keyed": Keyed, "plain": Plain}, failed={"broken": "ImportError: x"})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Any:
    return load_settings(REGISTRY, write(tmp_path, text), env=env or {})


def test_no_file_anywhere_is_fine(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    settings = load_settings(REGISTRY, None, env=env)
    assert settings.path is None
    assert settings.run.deadline_s == 60 and settings.run.concurrency == 16


def test_env_var_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[run]\nconcurrency = 3\n")
    settings = load_settings(REGISTRY, None, env={"OSINT_FANOUT_CONFIG": str(path)})
    assert settings.path == path and settings.run.concurrency == 3


def test_explicit_path_beats_the_env_var(tmp_path: Path) -> None:
    env_file = write(tmp_path, "[run]\nconcurrency = 3\n")
    flag_file = tmp_path / "flag.toml"
    flag_file.write_text("[run]\nconcurrency = 5\n")
    settings = load_settings(REGISTRY, flag_file, env={"OSINT_FANOUT_CONFIG": str(env_file)})
    assert settings.run.concurrency == 5


def test_platform_config_dir_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "osint-fanout").mkdir()
    (tmp_path / "osint-fanout" / "config.toml").write_text("[run]\ndeadline_s = 9\n")
    assert load_settings(REGISTRY, None, env={}).run.deadline_s == 9


def test_environment_key_beats_the_file_and_is_registered_for_redaction(tmp_path: Path) -> None:
    settings = load(tmp_path, '[adapters.keyed]\napi_key = "file-key-123"\n', env={"KEYED_API_KEY": "env-key-456"})
    assert settings.options["keyed"].api_key.get_secret_value() == "env-key-456"
    assert redact("sent env-key-456 here") == "sent *** here"
    assert "env-key-456" not in repr(settings.options["keyed"])


def test_flags_beat_the_file(tmp_path: Path) -> None:
    settings = load(tmp_path, "[run]\ntimeout_s = 3\n[adapters.keyed]\ntimeout_s = 2\n")
    chosen = ready_adapters(settings, REGISTRY, Flags(timeout_s=9))
    assert {r.name: r.timeout_s for r in chosen} == {"keyed": 9, "plain": 9}
    chosen = ready_adapters(settings, REGISTRY, Flags())
    assert {r.name: r.timeout_s for r in chosen} == {"keyed": 2, "plain": 3}


def test_default_timeout_is_the_adapters_own(tmp_path: Path) -> None:
    chosen = ready_adapters(load(tmp_path, ""), REGISTRY, Flags())
    assert {r.name: r.timeout_s for r in chosen} == {"keyed": 7.0, "plain": 10.0}


def test_selection_with_only_exclude_and_enabled(tmp_path: Path) -> None:
    settings = load(tmp_path, "[adapters.plain]\nenabled = false\n")
    assert [r.name for r in ready_adapters(settings, REGISTRY, Flags())] == ["keyed"]
    assert [r.name for r in ready_adapters(settings, REGISTRY, Flags(only=["plain"]))] == ["plain"]
    with pytest.raises(ConfigError, match="no adapter left"):
        ready_adapters(settings, REGISTRY, Flags(exclude=["keyed"]))
    with pytest.raises(ConfigError, match=r"--adapters: unknown adapter 'nope' \(installed: keyed, plain\)"):
        ready_adapters(settings, REGISTRY, Flags(only=["nope"]))


def test_rate_limits_default_per_upstream_and_can_be_overridden(tmp_path: Path) -> None:
    chosen = {r.name: r for r in ready_adapters(load(tmp_path, ""), REGISTRY, Flags())}
    rates = chosen["keyed"].http.rates
    assert rates["api"] == RateLimit(4, 60.0)
    assert rates["other"] == RateLimit(1, 1.0)
    assert rates["*"] is None
    settings = load(tmp_path, '[adapters.keyed]\nrate_limit = {api = "2/s"}\n')
    rates = ready_adapters(settings, REGISTRY, Flags(only=["keyed"]))[0].http.rates
    assert rates["api"] == RateLimit(2, 1.0)
    assert rates["other"] == RateLimit(1, 1.0)
    settings = load(tmp_path, '[adapters.keyed]\nrate_limit = "off"\n')
    assert set(ready_adapters(settings, REGISTRY, Flags(only=["keyed"]))[0].http.rates.values()) == {None}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[run]\nconcurrency = 'x'", r"run.concurrency: give a whole number \(got 'x'\)"),
        ("[run]\nconcurrency = 0", r"run.concurrency: give 1 or more \(got 0\)"),
        ("[run]\ndeadline_s = -1", r"run.deadline_s: give more than 0"),
        ("[run]\nfoo = 1", r"unknown key 'run.foo' \(valid keys: concurrency, timeout_s, deadline_s"),
        ("[runn]\n", r"unknown key 'runn' \(valid keys: run, adapters, store\)"),
        ("run = 3", r"run: give a table: \[section\] or \{key = value\}"),
        ("[adapters.nope]\n", r"unknown adapter \[adapters.nope\] \(installed: keyed, plain\)"),
        ('[adapters."\\u001b[2J"]\n', r"unknown adapter \[adapters.\\x1b\[2J\]"),  # found by hypothesis
        ("[adapters.plain]\nbase_url = 'x'", r"\[adapters.plain\] unknown key 'base_url' \(valid keys: enabled,"),
        ("[adapters.keyed]\ntimeout_s = 'soon'", r"\[adapters.keyed\] timeout_s: give a number$"),
        ("[adapters.keyed]\nrate_limit = 'fast'", r"rate_limit: rate limit 'fast' is not like '4/m'"),
        ("[adapters.keyed]\nrate_limit = {nope = '1/s'}", r"rate_limit: unknown upstream 'nope' \(known: api, other\)"),
        ("[adapters.keyed]\napi_key = 42", r"\[adapters.keyed\] api_key: give a text in quotes$"),
        ("[run\nx", r"not valid TOML"),
        ("[run]\nconcurrency = true", r"run.concurrency: give a whole number"),
        ("[run]\ndeadline_s = '60'", r"run.deadline_s: give a number"),
        ("[run]\ndeadline_s = inf", r"run.deadline_s: give a finite number"),
        ("[adapters.keyed]\ntimeout_s = nan", r"timeout_s: give a finite number"),
        ("[adapters.keyed]\nenabled = 'yes'", r"enabled: give true or false"),
        ("x = " + "[" * 3000 + "]" * 3000, r"nested too deeply"),
        ("[adapters.keyed]\nrate_limit = '4/min'", r"rate_limit: rate limit '4/min' is not like '4/m'"),
        ("[adapters.keyed]\nquota = '500/day'", r"quota: quota '500/day' is not like '500/d'"),
    ],
)
def test_mistakes_are_one_line_naming_the_key_and_the_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load(tmp_path, text)
    assert str(tmp_path / "config.toml") in str(info.value)
    assert "\n" not in str(info.value)
    assert "Input should" not in str(info.value) and "Value error" not in str(info.value)  # our words


def test_a_key_pasted_into_the_wrong_option_is_still_not_echoed(tmp_path: Path) -> None:
    key = "0123456789abcdef0123456789abcdef"
    with pytest.raises(ConfigError) as info:
        load(tmp_path, f"[adapters.keyed]\nrate_limit = '{key}'\n")
    assert key not in str(info.value) and "rate limit '***' is not like '4/m'" in str(info.value)


def test_a_failed_plugin_section_is_not_an_error(tmp_path: Path) -> None:
    assert load(tmp_path, "[adapters.broken]\nenabled = true\n").path is not None


def test_missing_explicit_file_and_unreadable_bytes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(REGISTRY, tmp_path / "missing.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe[run]")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_settings(REGISTRY, bad, env={})


def test_api_key_value_never_appears_in_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, '[adapters.keyed]\napi_key = "sekrit-value-1"\nbogus = 1\n')
    assert "sekrit-value-1" not in str(info.value)


# Property-based: no TOML, however odd, gets anything but settings or one clean line.
_KEYS = st.sampled_from(
    [
        "run",
        "adapters",
        "concurrency",
        "timeout_s",
        "deadline_s",
        "max_body_bytes",
        "keyed",
        "plain",
        "enabled",
        "api_key",
        "rate_limit",
        "max_concurrency",
        "base_url",
        "api",
        "other",
        "x",
    ]
) | st.text(min_size=1, max_size=8)
_SCALARS = (
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(["4/m", "1/s", "off", "0/s", "10/h", "https://x.test"])
)
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4), max_leaves=12
)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if value != value
            else ("inf" if value == float("inf") else "-inf" if value == float("-inf") else repr(value))
        )
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value).replace("\\u007f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    assert isinstance(value, dict)
    return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"


def _check_one_line(exc: ConfigError) -> None:
    message = str(exc)
    assert message and "\n" not in message and "Traceback" not in message
    assert all(ch.isprintable() for ch in message)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_any_toml_document_gives_settings_or_one_clean_line(tmp_path: Path, document: dict[str, object]) -> None:
    text = "\n".join(f"{json.dumps(key)} = {_toml(value)}" for key, value in document.items())
    try:
        settings_ = load(tmp_path, text)
        ready_adapters(settings_, REGISTRY, Flags())
    except ConfigError as exc:
        _check_one_line(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_text_as_a_config_gives_settings_or_one_clean_line(tmp_path: Path, text: str) -> None:
    try:
        load(tmp_path, text)
    except ConfigError as exc:
        _check_one_line(exc)


def test_the_store_section_is_checked_like_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[store]\nurl = "postgresql://osint@db.internal/osint"\nenabled = false\nkeep = "90d"\n')
    chosen = load_settings(REGISTRY, path, env={}).store
    assert (chosen.url, chosen.enabled, chosen.keep_s) == ("postgresql://osint@db.internal/osint", False, 90 * 86400)
    assert load_settings(REGISTRY, None, env={}).store.url is None
    for text, message in (
        ('[store]\nurl = "mysql://x/y"\n', "store.url: store 'mysql://x/y' is not a store URL"),
        ('[store]\nkeep = "forever"\n', "store.keep: 'forever' is not a duration"),
        ("[store]\nkept = 1\n", "unknown key 'store.kept' (valid keys: url, enabled, keep, commit_timeout_s)"),
    ):
        path.write_text(text)
        with pytest.raises(ConfigError) as caught:
            load_settings(REGISTRY, path, env={})
        assert message in str(caught.value)


# -- --max-age, max_age and --changes in the plan ---------------------------------


def plan_of(tmp_path: Path, text: str, flags: Flags, *, terminal: bool = False) -> Any:
    from osint_fanout._plan import make_plan

    store = {"OSINT_FANOUT_STORE": f"sqlite:///{tmp_path / 'store.db'}"}
    return make_plan(load(tmp_path, text), REGISTRY, flags, stdout_is_terminal=terminal, env=store)


def test_max_age_comes_from_the_flag_else_each_adapters_section(tmp_path: Path) -> None:
    config = '[adapters.keyed]\nmax_age = "12h"\n'
    ages = {r.name: r.max_age_s for r in plan_of(tmp_path, config, Flags()).adapters}
    assert ages == {"keyed": 12 * 3600, "plain": None}
    ages = {r.name: r.max_age_s for r in plan_of(tmp_path, config, Flags(max_age_s=60)).adapters}
    assert ages == {"keyed": 60, "plain": 60}
    off = plan_of(tmp_path, config + "[store]\nenabled = false\n", Flags())
    assert [r.max_age_s for r in off.adapters] == [None, None]  # nothing to reuse while the store is off


def test_a_bad_max_age_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"adapters\.plain.*max_age"):
        load(tmp_path, '[adapters.plain]\nmax_age = "soon"\n')


def test_changes_needs_the_store_and_writes_ndjson(tmp_path: Path) -> None:
    assert plan_of(tmp_path, "", Flags(changes=True), terminal=True).output_format == "ndjson"
    assert plan_of(tmp_path, "", Flags(changes=True, output_format="ndjson")).changes
    with pytest.raises(ConfigError, match="drop --format table"):
        plan_of(tmp_path, "", Flags(changes=True, output_format="table"))
    for flags in (Flags(changes=True, no_store=True), Flags(max_age_s=60, no_store=True)):
        with pytest.raises(ConfigError, match="the store is off"):
            plan_of(tmp_path, "", flags)
