"""Settings: the TOML file, the environment, and CLI flags, in that order of strength."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from ._adapter import Adapter, AdapterOptions
from ._duration import parse_duration
from ._engine import ReadyAdapter
from ._http import DEFAULT_MAX_BODY_BYTES
from ._plugins import Registry
from ._ratelimit import RateLimit
from ._redact import one_line, register_secret

__all__ = [
    "ConfigError",
    "Overrides",
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
class Overrides:
    """CLI flags; None means "not given"."""

    concurrency: int | None = None
    timeout_s: float | None = None
    deadline_s: float | None = None
    only: list[str] | None = None
    exclude: list[str] | None = None


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
        raise ConfigError(f"{where}: {_describe(exc, _File)}") from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply") from None
    unknown = set(parsed.adapters) - set(registry.adapters) - set(registry.failed)
    if unknown:
        known = ", ".join(registry.adapters) or "none"
        raise ConfigError(f"{where}: unknown adapter [adapters.{sorted(unknown)[0]}] (installed: {known})")
    options = {}
    for name, cls in registry.adapters.items():
        section = dict(parsed.adapters.get(name, {}))
        if cls.key_env and env.get(cls.key_env):
            section["api_key"] = env[cls.key_env]
        try:
            options[name] = cls.Options.model_validate(section)
        except ValidationError as exc:
            raise ConfigError(f"{where}: [adapters.{name}] {_describe(exc, cls.Options)}") from None
        spec = options[name].rate_limit
        for upstream in spec if isinstance(spec, dict) else []:
            if upstream not in cls.rate_limits:
                names = ", ".join(cls.rate_limits) or "none"
                raise ConfigError(
                    f"{where}: [adapters.{name}] rate_limit: unknown upstream {upstream!r} (known: {names})"
                )
        key = options[name].api_key
        register_secret(key.get_secret_value() if isinstance(key, SecretStr) else None)
    return Settings(file, parsed.run, options, parsed.store)


def ready_adapters(settings: Settings, registry: Registry, flags: Overrides) -> list[ReadyAdapter]:
    """The adapters this run uses, in name order, with every setting resolved."""
    for names, flag in ((flags.only, "--adapters"), (flags.exclude, "--exclude")):
        for name in names or []:
            if name not in registry.adapters:
                known = ", ".join(registry.adapters) or "none"
                raise ConfigError(f"{flag}: unknown adapter {name!r} (installed: {known})")
    chosen = []
    for name, cls in registry.adapters.items():
        options = settings.options[name]
        wanted = name in flags.only if flags.only else options.enabled
        if wanted and name not in (flags.exclude or []):
            chosen.append(_ready(cls, options, settings.run, flags))
    if not chosen:
        raise ConfigError("no adapter left to run (check --adapters, --exclude and 'enabled' in the config)")
    return chosen


def _ready(cls: type[Adapter[Any]], options: AdapterOptions, run: RunSettings, flags: Overrides) -> ReadyAdapter:
    timeout = flags.timeout_s or options.timeout_s or run.timeout_s or cls.default_timeout_s
    spec = options.rate_limit
    rates: dict[str, RateLimit | None] = {}
    for upstream, default in {**cls.rate_limits, "*": "off"}.items():
        text = spec if isinstance(spec, str) else (spec or {}).get(upstream, default)
        rates[upstream] = None if text == "off" else RateLimit.parse(text)
    return ReadyAdapter(
        adapter=cls(options),
        timeout_s=timeout,
        max_body_bytes=options.max_body_bytes or run.max_body_bytes,
        rates=rates,
        max_concurrency=options.max_concurrency,
    )


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config {file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {file}: cannot read it: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {file}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"config {file}: nested too deeply") from None


def _describe(exc: ValidationError, model: type[BaseModel]) -> str:
    """The first problem, naming its key, in one line."""
    errors = exc.errors()
    first = errors[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        fields = _fields_at(model, first["loc"][:-1])
        valid = f" (valid keys: {', '.join(fields)})" if fields else ""
        message = f"unknown key {key!r}{valid}"
    else:
        shown = "" if "key" in key else f" (got {first.get('input')!r})"
        message = f"{key}: {first['msg']}{shown}"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return one_line(message + more, 400)


def _fields_at(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    for part in path:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)
