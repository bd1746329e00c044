"""Settings: the TOML file and the environment, validated (keys checked and registered for
redaction). `_plan.py` adds the command line's flags and resolves the run's plan."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from ._adapter import Adapter, AdapterOptions, key_urls
from ._duration import parse_duration
from ._egress import is_loopback_host
from ._http import DEFAULT_MAX_BODY_BYTES
from ._plugins import Registry
from ._redact import one_line, register_secret

__all__ = [
    "ConfigError",
    "RunSettings",
    "Settings",
    "StoreSettings",
    "default_config_path",
    "load_settings",
]

CONFIG_ENV = "OSINT_FANOUT_CONFIG"


class ConfigError(Exception):
    """Bad configuration or usage; the message is one line, ready for the user (whatever
    the file held: control characters are escaped, keys redacted)."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message, 500))


class RunSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    concurrency: int = Field(16, ge=1, le=1000, description="Adapter calls in flight at once.")
    timeout_s: float | None = Field(None, gt=0, description="Timeout for every adapter; default: each adapter's own.")
    deadline_s: float = Field(60.0, gt=0, description="Overall deadline for one target's investigation.")
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, gt=0, description="Largest HTTP response body read.")
    max_queued: int = Field(
        10_000,
        ge=0,
        le=1_000_000,
        description="Calls that may wait queued for an upstream's rate limit without holding a running place.",
    )


class StoreSettings(BaseModel):
    """The `[store]` section: where results are recorded (see osint_fanout.store)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    url: str | None = Field(
        None,
        description="sqlite:///path/to/file.db or postgresql://user@host/db; default: an SQLite file in the "
        "user data directory. $OSINT_FANOUT_STORE and --store win.",
    )
    enabled: bool = Field(True, description="Record results (--no-store turns it off for one run).")
    keep: str | None = Field(None, description="Remove results older than this ('90d', '12h'); default: keep all.")
    commit_timeout_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        allow_inf_nan=False,
        description="How long the end of a run waits for the store to commit what is queued (--max-time still holds).",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        from .store._url import check_url

        if value is not None:
            check_url(value)
        return value

    @field_validator("keep")
    @classmethod
    def _check_keep(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @property
    def keep_s(self) -> float | None:
        return None if self.keep is None else parse_duration(self.keep)


class _File(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    run: RunSettings = RunSettings()
    adapters: dict[str, dict[str, Any]] = {}
    store: StoreSettings = StoreSettings()


@dataclass(frozen=True)
class Settings:
    path: Path | None
    """The file read, or None when there was none."""
    run: RunSettings
    options: dict[str, AdapterOptions]
    """Validated options of every installed adapter, keys from the environment applied."""
    store: StoreSettings = field(default_factory=StoreSettings)


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("osint-fanout", appauthor=False) / "config.toml"


def load_settings(registry: Registry, path: str | Path | None, env: Mapping[str, str] = os.environ) -> Settings:
    """Read the config (`path`, else $OSINT_FANOUT_CONFIG, else the user config dir)."""
    explicit = path or env.get(CONFIG_ENV) or None
    file = Path(explicit) if explicit else default_config_path()
    raw: dict[str, Any] = {}
    if explicit or file.is_file():
        raw = _read_toml(file)
    else:
        file = None  # type: ignore[assignment]
    where = f"config {file}" if file else "config"
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_scrubbed(_describe(exc, _File), raw.get('adapters', {}))}") from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply") from None
    unknown = set(parsed.adapters) - set(registry.names()) - set(registry.failed)
    if unknown:
        known = ", ".join(registry.names()) or "none"
        raise ConfigError(f"{where}: unknown adapter [adapters.{sorted(unknown)[0]}] (installed: {known})")
    options = {
        name: _adapter_options(name, cls, dict(parsed.adapters.get(name, {})), env, where)
        for name, cls in registry.adapters.items()
    }
    return Settings(file, parsed.run, options, parsed.store)


def _adapter_options(
    name: str, cls: type[Adapter[Any]], section: dict[str, Any], env: Mapping[str, str], where: str
) -> AdapterOptions:
    """One `[adapters.NAME]` section with the keys from the environment, validated; its keys
    registered for redaction."""
    # One rule for the three sources: each holds keys separated by commas; an empty part
    # (all of "", ",", " , ") is no key.
    from_env = _split_keys(env.get(cls.key_env, "")) if cls.key_env else []
    if from_env:
        keys = [_clean_key(part, cls.key_env or "") for part in from_env]
        section["api_key"], section["api_keys"] = keys[0], keys[1:]
    else:
        shown = f"{where}: [adapters.{name}]"
        if isinstance(section.get("api_key"), str):
            keys = _keys_of(section["api_key"], f"{shown} api_key")
            section["api_key"] = keys[0] if keys else None
            if keys[1:]:
                section["api_keys"] = [*keys[1:], *section.get("api_keys", [])]
        if isinstance(section.get("api_keys"), list):
            section["api_keys"] = [key for item in section["api_keys"] for key in _keys_of(item, f"{shown} api_keys")]
    try:
        options = cls.Options.model_validate(section)
    except ValidationError as exc:
        message = _scrubbed(_describe(exc, cls.Options, echo=False), section)
        raise ConfigError(f"{where}: [adapters.{name}] {message}") from None
    known = {**cls.rate_limits, **cls.quotas}
    for option, spec in (("rate_limit", options.rate_limit), ("quota", options.quota)):
        for upstream in spec if isinstance(spec, dict) else []:
            if upstream not in known:
                names = ", ".join(known) or "none"
                unknown = f"unknown upstream {upstream!r} (known: {names})"
                raise ConfigError(f"{where}: [adapters.{name}] {option}: {unknown}")
    keys = [options.api_key, *options.api_keys]
    for key in keys:
        register_secret(key.get_secret_value() if isinstance(key, SecretStr) else None)
    if any(keys):
        _refuse_plain_http(name, options, where)
    return options


def _split_keys(text: str) -> list[str]:
    """The keys in one value: comma-separated, empty parts dropped."""
    return [part for part in text.split(",") if part.strip()]


def _keys_of(value: Any, source: str) -> list[Any]:
    """The keys in one config value, checked (a value of the wrong type is left to pydantic)."""
    return [_clean_key(part, source) for part in _split_keys(value)] if isinstance(value, str) else [value]


_KEY_CHARS = frozenset(map(chr, range(0x21, 0x7F)))  # printable ASCII, no space


def _clean_key(value: str, source: str) -> str:
    """A key without the whitespace a paste or a CRLF file adds; anything else that no key
    holds is refused, without showing the key."""
    key = value.strip()
    register_secret(key)
    if not set(key) <= _KEY_CHARS:
        raise ConfigError(
            f"{source}: the API key holds control characters, spaces or non-ASCII characters (it is not shown); "
            "set it again"
        )
    return key


def _refuse_plain_http(name: str, options: AdapterOptions, where: str) -> None:
    if options.allow_plain_http:
        return
    for option, url in key_urls(options).items():
        parts = urlsplit(url)
        if parts.scheme != "https" and not is_loopback_host(parts.hostname or ""):
            raise ConfigError(
                f"{where}: [adapters.{name}] {option}: refusing to send the API key in clear over plain http to "
                f"{parts.hostname}; use https, or set allow_plain_http = true in [adapters.{name}]"
            )


SHORTEST_KEY = 16
"""No API key is shorter (Shodan's have 32 characters, VirusTotal's 64): a shorter value,
such as a rate limit '4/min', may be shown in an error about it."""


def _scrubbed(message: str, section: dict[str, Any]) -> str:
    """`message` without any string value of `section` that could be a key: a key pasted
    into the wrong option must not be echoed by the error about it."""
    for value in sorted(_strings(section), key=len, reverse=True):
        if len(value) >= SHORTEST_KEY:
            message = message.replace(value, "***")
    return message


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip(), value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


MAX_CONFIG_BYTES = 1024 * 1024


def _read_toml(file: Path) -> dict[str, Any]:
    """Only a regular file, of at most MAX_CONFIG_BYTES: /dev/zero or a FIFO is no config."""
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens at once instead of waiting
    except FileNotFoundError:
        raise ConfigError(f"config {file}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"config {file}: cannot read it: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ConfigError(f"config {file}: not a regular file")
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"config {file}: cannot read it: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config {file}: larger than {MAX_CONFIG_BYTES // 1024} KiB; that is no config file")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {file}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"config {file}: nested too deeply") from None


def _describe(exc: ValidationError, model: type[BaseModel], *, echo: bool = True) -> str:
    """The first problem, naming its key, in one line; the value given only with `echo`
    (never for [adapters.*], whose values may be keys pasted into the wrong place, nor for
    [store], whose url may hold a password)."""
    errors = exc.errors()
    first = errors[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        fields = _fields_at(model, first["loc"][:-1])
        valid = f" (valid keys: {', '.join(fields)})" if fields else ""
        message = f"unknown key {key!r}{valid}"
    else:
        secret = not echo or "key" in key or key.startswith(("adapters", "store"))  # a store URL holds a password
        shown = "" if secret else f" (got {first.get('input')!r})"
        message = f"{key}: {_plainly(first)}{shown}"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return one_line(message + more, 400)


_WANTED = {
    "int_parsing": "give a whole number",
    "int_type": "give a whole number",
    "int_from_float": "give a whole number",
    "float_parsing": "give a number",
    "float_type": "give a number",
    "finite_number": "give a finite number",
    "bool_type": "give true or false",
    "bool_parsing": "give true or false",
    "string_type": "give a text in quotes",
    "dict_type": "give a table: [section] or {key = value}",
    "model_type": "give a table: [section] or {key = value}",
    "list_type": "give a list: [...]",
}
_BOUNDS = {
    "greater_than_equal": "{} or more",
    "greater_than": "more than {}",
    "less_than_equal": "{} or less",
    "less_than": "less than {}",
}


def _plainly(error: Any) -> str:
    """One validation problem in our words, not pydantic's ("Input should be ...")."""
    kind, msg, limits = error["type"], str(error["msg"]), error.get("ctx") or {}
    if kind == "value_error":  # our validators' own message
        return msg.removeprefix("Value error, ")
    if kind in _WANTED:
        return _WANTED[kind]
    if kind in _BOUNDS and limits:
        return "give " + _BOUNDS[kind].format(next(iter(limits.values())))
    return msg.replace("Input should be ", "give ", 1)


def _fields_at(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    for part in path:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)
