"""The adapter contract: what a plugin declares, and the one method it implements."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Generic, TypeVar, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from ._context import Context
from ._duration import parse_duration
from ._keys import KEY_TOKEN
from ._quota import Quota
from ._ratelimit import RateLimit
from ._response import HttpResponse
from ._targets import Target, TargetKind
from .assets import Findings

__all__ = [
    "Adapter",
    "AdapterOptions",
    "Facts",
    "KeyPolicy",
    "KeylessUrl",
    "UpstreamUrl",
    "asks_http",
    "metadata_problems",
]


class KeyPolicy(StrEnum):
    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


def _upstream_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{value!r} is not an http(s) base URL like 'https://api.example.net'")
    return value.rstrip("/")


_CHECK_URL = AfterValidator(_upstream_url)


class _Keyless:
    """Marks a URL option the adapter never sends its key to."""


UpstreamUrl = Annotated[str, _CHECK_URL]
"""An option holding an upstream's base URL: http(s), a host, no query; no trailing '/'.
The API key may be sent there, so with a key it must be https (or loopback), unless the
adapter's section says `allow_plain_http = true`."""
KeylessUrl = Annotated[str, _CHECK_URL, _Keyless()]
"""Like UpstreamUrl, for an upstream that never gets the API key (e.g. a keyless mirror)."""


def key_urls(options: BaseModel) -> dict[str, str]:
    """The URL options the key may be sent to (UpstreamUrl, not KeylessUrl), by field name."""
    found = {}
    for name, info in type(options).model_fields.items():
        metadata = _metadata(info.annotation) + list(info.metadata)
        value = getattr(options, name)
        if _CHECK_URL in metadata and not any(isinstance(m, _Keyless) for m in metadata) and isinstance(value, str):
            found[name] = value
    return found


def asks_http(options: BaseModel) -> bool:
    """Whether the adapter has an upstream URL option (UpstreamUrl or KeylessUrl): the
    contract's sign that it asks HTTP upstreams."""
    return any(
        _CHECK_URL in _metadata(info.annotation) + list(info.metadata) for info in type(options).model_fields.values()
    )


def _metadata(annotation: Any) -> list[Any]:
    """Annotated metadata of a type and of the members of a union (`UpstreamUrl | None`)."""
    found = list(getattr(annotation, "__metadata__", ()))
    for arg in get_args(annotation):
        found += _metadata(arg)
    return found

Facts = dict[str, frozenset[str] | str | int | float | bool | None]
"""An adapter's comparable facts: named sets of strings, or scalars (see Adapter.facts)."""


class AdapterOptions(BaseModel):
    """The `[adapters.NAME]` section. Adapters subclass it to add their own options;
    every field needs a default and a description (they are documented from here)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    enabled: bool = Field(True, description="Run this adapter.")
    timeout_s: float | None = Field(
        None, gt=0, description="Timeout for one call; default: [run] timeout_s, else the adapter's."
    )
    api_key: SecretStr | None = Field(None, description="API key; the environment variable wins.")
    api_keys: list[SecretStr] = Field(
        default_factory=list,
        description="More keys for the same service, each with its own rate-limit window (and quota); "
        "the environment variable may hold several, comma-separated.",
    )
    max_body_bytes: int | None = Field(
        None, gt=0, description="Largest response body read; default: [run] max_body_bytes."
    )
    rate_limit: str | dict[str, str] | None = Field(
        None,
        description="Requests per period ('4/m', '1/s', 'off'), or a table by upstream name; "
        "shared by every target in the run. Default: the adapter's documented limits.",
    )
    max_concurrency: int | None = Field(
        None, ge=1, description="Requests in flight to each upstream; default: no extra bound."
    )
    quota: str | dict[str, str] | None = Field(
        None,
        description="Requests per UTC day or month ('500/d', '15500/mo', 'off'), or a table by upstream; "
        "per key, counted across runs. Default: the adapter's documented quotas.",
    )
    allow_plain_http: bool = Field(
        False, description="Allow sending the API key over plain http to a host that is not loopback."
    )
    max_age: str | None = Field(
        None,
        description="Reuse a stored ok/empty result younger than this ('12h', '7d') instead of asking the "
        "upstream; needs the store. --max-age wins. Default: always ask.",
    )

    @field_validator("max_age")
    @classmethod
    def _check_max_age(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @property
    def max_age_s(self) -> float | None:
        return None if self.max_age is None else parse_duration(self.max_age)

    @field_validator("rate_limit")
    @classmethod
    def _check_rate(cls, value: str | dict[str, str] | None) -> str | dict[str, str] | None:
        for text in [value] if isinstance(value, str) else (value or {}).values():
            if text != "off":
                RateLimit.parse(text)
        return value

    @field_validator("quota")
    @classmethod
    def _check_quota(cls, value: str | dict[str, str] | None) -> str | dict[str, str] | None:
        for text in [value] if isinstance(value, str) else (value or {}).values():
            if text != "off":
                Quota.parse(text)
        return value


OptionsT = TypeVar("OptionsT", bound=AdapterOptions)


class Adapter(ABC, Generic[OptionsT]):
    """Subclass, fill in the class attributes, implement `lookup`.

    `lookup` returns a JSON-able dict or raises: `NotFound` (status empty), `Skip`
    (skipped), `AdapterError` (error with a type). Anything else is reported as a crash.
    Timing, timeouts, retries, rate limits and error mapping are the core's job.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    kinds: ClassVar[frozenset[TargetKind]]
    key: ClassVar[KeyPolicy] = KeyPolicy.NONE
    key_env: ClassVar[str | None] = None
    """Environment variable holding the API key, e.g. SHODAN_API_KEY."""
    default_timeout_s: ClassVar[float] = 10.0
    Options: ClassVar[type[AdapterOptions]] = AdapterOptions
    rate_limits: ClassVar[dict[str, str]] = {}
    """Default rate limit per upstream name, e.g. {"api": "1/s"}."""
    quotas: ClassVar[dict[str, str]] = {}
    """Default quota per upstream name, e.g. {"api": "500/d"}: the service's documented plan."""
    resolves: ClassVar[bool] = False
    """Its lookup of a domain name says what the name resolves to (resolves-to and alias-of
    relations in its `assets()`), keylessly and without a quota: a pivot (search --depth)
    asks it about a random label under a parent to detect wildcard records."""

    def __init__(self, options: OptionsT) -> None:
        self.options = options

    @property
    def api_key(self) -> str | None:
        """None without a key; else a stand-in to put in a request's params or headers as the
        key would be (`{"x-apikey": self.api_key}`, `f"Bearer {self.api_key}"`): the HTTP
        layer puts in its place the key it picks for that request (of `api_keys`)."""
        return KEY_TOKEN if self.api_keys else None

    @property
    def api_keys(self) -> list[str]:
        """The keys themselves, the first one first: for an adapter that must talk to its
        upstream some other way than `ctx.http` (the stand-in is replaced only there)."""
        keys = [self.options.api_key, *self.options.api_keys]
        return list(dict.fromkeys(key.get_secret_value() for key in keys if key is not None))

    @classmethod
    def key_exhausted(cls, response: HttpResponse) -> bool:
        """True when `response` says the key used is out of quota (beyond 401/403, which
        always set a key aside): that key is set aside for the rest of the run."""
        return False

    def skip_reason(self, target: Target) -> str | None:
        """Why this adapter will not run for `target`, or None to run it."""
        if target.kind not in self.kinds:
            return f"does not handle {target.kind} targets"
        if self.key is KeyPolicy.REQUIRED and not self.api_key:
            where = f"set {self.key_env} or " if self.key_env else "set "
            return f"no API key ({where}[adapters.{self.name}] api_key)"
        return None

    @abstractmethod
    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        """Ask the upstream about `target` and return what it knows."""

    def summarize(self, data: dict[str, Any]) -> str:
        """One short line for the table, e.g. '3 malicious / 94'."""
        return ", ".join(sorted(data))[:80]

    @classmethod
    def data_schema(cls) -> dict[str, Any] | None:
        """The JSON Schema of what `lookup` returns, or None (the data is any object). The
        built-in adapters' schemas are part of the published output schemas."""
        return None

    def facts(self, data: dict[str, Any]) -> Facts | None:
        """The comparable facts in `data` (what `lookup` returned), for `diff` and
        `--changes`: named sets of strings (subdomains, open ports) or scalars (registrar,
        a count), without noise (no lookup timestamps, no ordering). Leave a fact out when
        this lookup could not learn it (a record type that failed): a missing fact is not
        compared, while an empty set means "none". The default, None, declares no facts:
        then only "the data changed" is reported, from a hash of the data."""
        return None

    def assets(self, target: Target, data: dict[str, Any]) -> Findings | None:
        """The typed assets in `data` (what `lookup` returned for `target`) and how each
        relates to the target or to another found asset (see osint_fanout.assets and
        docs/assets.md). Provenance is the core's job. The default, None, declares none:
        a plugin without assets keeps working, and pivot has nothing to follow from it."""
        return None


def metadata_problems(cls: object) -> list[str]:
    """What an adapter class is missing; empty when it is complete."""
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        return ["is not a subclass of osint_fanout.Adapter"]
    problems = []
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", name):
        problems.append("name must be lowercase letters, digits or '_'")
    if not isinstance(getattr(cls, "description", None), str) or not cls.description.strip():
        problems.append("description is missing")
    kinds = getattr(cls, "kinds", None)
    if not kinds or not all(isinstance(kind, TargetKind) for kind in kinds):
        problems.append("kinds must be a non-empty set of TargetKind")
    if cls.key is not KeyPolicy.NONE and not cls.key_env:
        problems.append("key_env is required when the adapter takes a key")
    if not cls.default_timeout_s > 0:
        problems.append("default_timeout_s must be positive")
    if not (isinstance(cls.Options, type) and issubclass(cls.Options, AdapterOptions)):
        problems.append("Options must subclass AdapterOptions")
    else:
        for field_name, field in cls.Options.model_fields.items():
            if not field.description:
                problems.append(f"option {field_name!r} has no description")
            if field.is_required():
                problems.append(f"option {field_name!r} has no default")
    if getattr(cls, "__abstractmethods__", None):
        problems.append("lookup() is not implemented")
    return problems
