"""Meta-tests: every adapter is complete, tested and documented."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from osint_fanout._adapter import AdapterOptions, asks_http, metadata_problems
from osint_fanout._plugins import ENTRY_POINT_GROUP, discover
from osint_fanout._settings import RunSettings, load_settings

ROOT = Path(__file__).resolve().parent.parent
BUILT_IN = sorted(
    ep.name for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.value.startswith("osint_fanout_adapters.")
)
EXAMPLE = ROOT / "config.example.toml"


def test_the_built_in_adapters_are_all_registered() -> None:
    assert BUILT_IN == ["asn", "ct", "dns", "shodan", "virustotal", "whois"]
    registry = discover()
    assert set(BUILT_IN) <= set(registry.adapters)
    assert not set(BUILT_IN) & set(registry.failed)


@pytest.mark.parametrize("name", BUILT_IN)
def test_adapter_metadata_is_complete(name: str) -> None:
    cls = discover().adapters[name]
    assert metadata_problems(cls) == []
    assert cls.__module__ == f"osint_fanout_adapters.{name}"


@pytest.mark.parametrize("name", BUILT_IN)
def test_adapter_has_its_own_test_file(name: str) -> None:
    test_file = ROOT / "tests" / f"test_adapter_{name}.py"
    assert test_file.is_file(), f"{test_file.name} is missing"
    assert re.search(r"^def test_", test_file.read_text(), re.MULTILINE)


@pytest.mark.parametrize("name", BUILT_IN)
def test_adapter_stays_one_small_file(name: str) -> None:
    lines = (ROOT / "adapters" / f"{name}.py").read_text().count("\n")
    assert lines <= 400, f"adapters/{name}.py has {lines} lines"


def test_config_example_loads_and_documents_every_key() -> None:
    registry = discover()
    load_settings(registry, EXAMPLE, env={})
    text = EXAMPLE.read_text()
    parsed = tomllib.loads(text)
    assert set(RunSettings.model_fields) == set(parsed["run"]) | {"timeout_s"}
    assert "# timeout_s" in text
    for common in AdapterOptions.model_fields:
        assert f"#   {common} =" in text, common
    for name, cls in registry.adapters.items():
        if name not in BUILT_IN:
            continue
        assert f"[adapters.{name}]" in text
        section = text.split(f"[adapters.{name}]", 1)[1].split("\n[", 1)[0]
        for option in set(cls.Options.model_fields) - set(AdapterOptions.model_fields):
            assert re.search(rf"^#? ?{option} =", section, re.MULTILINE), f"{name}.{option} is not documented"
        if cls.key_env:
            assert cls.key_env in section


def test_docs_document_every_adapter_and_key_variable() -> None:
    readme = (ROOT / "docs" / "adapters.md").read_text()
    for name in BUILT_IN:
        assert f"`{name}`" in readme
        cls = discover().adapters[name]
        if cls.key_env:
            assert cls.key_env in readme


ADAPTER_FILES = sorted(path.name for path in (ROOT / "adapters").glob("*.py") if path.name != "__init__.py")


@pytest.mark.parametrize("file_name", ADAPTER_FILES)
def test_adapters_use_only_the_public_api(file_name: str) -> None:
    """The built-in adapters are written as a plugin would be: nothing from the core's
    private modules (osint_fanout._*), only what `osint_fanout` exports."""
    text = (ROOT / "adapters" / file_name).read_text()
    assert not re.search(r"^\s*(from|import) osint_fanout\._", text, re.MULTILINE), file_name


@pytest.mark.parametrize("file_name", ADAPTER_FILES)
def test_adapters_compute_no_time_margins_and_raise_known_error_types(file_name: str) -> None:
    """Time is asked of the context (ctx.timeout_s, ctx.timeout, ctx.fallback), never
    computed by hand from time_left(); every AdapterError type named is one of ErrorType."""
    from osint_fanout import ErrorType

    text = (ROOT / "adapters" / file_name).read_text()
    assert not re.search(r"time_left\(\)\s*[-*]", text), f"{file_name} computes a margin or share by hand"
    assert "asyncio.timeout(" not in text, f"{file_name} sets a timeout of its own: use ctx.timeout"
    for named in re.findall(r'AdapterError\(\s*"([a-z_]+)"', text):
        assert named in {t.value for t in ErrorType}, f"{file_name}: unknown error type {named!r}"


@pytest.mark.parametrize("name", BUILT_IN)
def test_an_adapter_that_asks_http_has_an_upstream_url_option(name: str) -> None:
    """The run makes its HTTP client before it starts when some adapter has an upstream URL
    option (asks_http); a built-in adapter that uses ctx.http must have one."""
    cls = discover().adapters[name]
    module = ROOT / "adapters" / f"{name}.py"
    uses_http = "ctx.http" in module.read_text(encoding="utf-8")
    assert asks_http(cls.Options()) == uses_http
