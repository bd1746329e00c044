"""What changed between two results of one (target, adapter): a pure function over the
adapters' facts, no I/O. A failed lookup is never compared."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .._adapter import Adapter, Facts
    from ..assets import FindingsFn

__all__ = [
    "COMPARABLE",
    "AssetChange",
    "ChangeEvent",
    "FactsFn",
    "FirstSeen",
    "Observation",
    "ScalarChange",
    "SetChange",
    "changes",
    "data_hash",
    "facts_from",
    "target_changes",
]

log = logging.getLogger("osint_fanout.store")

COMPARABLE = frozenset({"ok", "empty"})
"""Only these statuses are compared; error, timeout, cancelled and skipped never are."""

Scalar = str | int | float | bool | None
FactsFn = Callable[[str, dict[str, Any]], "Facts | None"]
"""(adapter name, data) -> the adapter's facts, or None when it declares none."""


class Observation(Protocol):
    """What `changes` reads of a result: a StoredResult, or a live one wrapped by
    StoredResult.from_result."""

    @property
    def target(self) -> str: ...
    @property
    def adapter(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def data(self) -> dict[str, Any] | None: ...
    @property
    def recorded_at(self) -> datetime: ...


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    target: str = Field(description="The target's canonical value.")
    adapter: str | None = Field(description="The adapter; null in a first_seen of the whole target.")


class SetChange(_Event):
    """A value joined or left a set fact (subdomains, ports, records of a type, ...)."""

    fact: str
    change: Literal["added", "removed"]
    value: str
    before_at: datetime = Field(description="When the earlier result was recorded.")
    after_at: datetime = Field(description="When the later result was recorded.")


class ScalarChange(_Event):
    """A scalar fact changed (registrar, expiry, malicious count, ...). The fact `status`
    is the result's own status (ok <-> empty); the fact `data` means the data of an
    adapter that declares no facts changed (before and after are hashes of it)."""

    fact: str
    change: Literal["changed"]
    before: Scalar
    after: Scalar
    before_at: datetime
    after_at: datetime


class FirstSeen(_Event):
    """Nothing was stored before for this target (adapter null) or this adapter."""

    change: Literal["first_seen"]
    after_at: datetime


class AssetChange(_Event):
    """An asset that is new for the target (no earlier result of it found it), or gone (an
    earlier result found it, none of this look does)."""

    change: Literal["new", "gone"]
    type: str = Field(description="The asset's type (osint_fanout.assets: domain-name, ipv4-addr, service, ...).")
    value: str = Field(description="The asset's canonical value.")
    relation: str | None = Field(
        None, description="How it relates to the target (resolves-to, has-service, ...); null when not directly."
    )
    after_at: datetime = Field(description="When the result that says so was recorded.")


ChangeEvent = Annotated[SetChange | ScalarChange | FirstSeen | AssetChange, Field(discriminator="change")]


def data_hash(data: dict[str, Any] | None) -> str:
    """A stable short hash of JSON data: key order and whitespace do not count."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def changes(previous: Observation | None, current: Observation, facts_fn: FactsFn) -> list[ChangeEvent]:
    """The change events from `previous` (the newest earlier ok/empty result of the same
    target and adapter, or None when there is none) to `current`.

    - `current` not ok/empty (error, timeout, cancelled, skipped): no events, ever.
    - `previous` None: one `first_seen` for this adapter.
    - Facts (see Adapter.facts): one event per value added to or removed from a set, one
      per scalar changed; a fact missing on either side is unknown there, not compared.
      An `empty` result has every fact of the other side, empty.
    - An adapter without facts: one `data` change when the data's hash differs.
    """
    if current.status not in COMPARABLE:
        return []
    if previous is None:
        return [
            FirstSeen(target=current.target, adapter=current.adapter, change="first_seen", after_at=current.recorded_at)
        ]
    if previous.status not in COMPARABLE:
        return []  # the caller passed a failed result: there is nothing to compare it with
    stored = getattr(previous, "data_text", None)
    if stored is not None and previous.status == current.status and stored == getattr(current, "data_text", None):
        return []  # the same text is the same data: nothing to decode or compare
    common = {"target": current.target, "adapter": current.adapter}
    times = {"before_at": previous.recorded_at, "after_at": current.recorded_at}
    events: list[ChangeEvent] = []
    if previous.status != current.status:
        events.append(
            ScalarChange(
                **common, fact="status", change="changed", before=previous.status, after=current.status, **times
            )
        )
    before, after = _facts(previous, facts_fn), _facts(current, facts_fn)
    if before is None or after is None:  # no facts declared: the data as a whole
        old, new = data_hash(previous.data), data_hash(current.data)
        if old != new:
            events.append(ScalarChange(**common, fact="data", change="changed", before=old, after=new, **times))
        return events
    if previous.status == "empty":
        before = {name: _nothing(value) for name, value in after.items()}
    elif current.status == "empty":
        after = {name: _nothing(value) for name, value in before.items()}
    return events + _compared(before, after, common | times)


def _compared(
    before: dict[str, frozenset[str] | Scalar], after: dict[str, frozenset[str] | Scalar], common: dict[str, Any]
) -> list[ChangeEvent]:
    """One event per set value added or removed, one per scalar changed; by fact name."""
    events: list[ChangeEvent] = []
    for name in sorted(set(before) & set(after)):
        old_value, new_value = before[name], after[name]
        if isinstance(old_value, frozenset) or isinstance(new_value, frozenset):
            old_set, new_set = _as_set(old_value), _as_set(new_value)
            for change, values in (("added", new_set - old_set), ("removed", old_set - new_set)):
                events.extend(
                    SetChange(**common, fact=name, change=change, value=value)  # type: ignore[arg-type]
                    for value in sorted(values)
                )
        elif old_value != new_value or type(old_value) is not type(new_value):
            events.append(ScalarChange(**common, fact=name, change="changed", before=old_value, after=new_value))
    return events


def target_changes(
    pairs: Iterable[tuple[Observation | None, Observation]], facts_fn: FactsFn, findings_fn: FindingsFn | None = None
) -> list[ChangeEvent]:
    """`changes` for each (previous, current) pair of one target's adapters, then (with
    `findings_fn`) its new and gone assets (see _asset_changes.py); when none of them has a
    previous result, the target as a whole is new: one `first_seen`, not one per adapter
    (nor one per fact or asset)."""
    listed = [(before, after) for before, after in pairs if after.status in COMPARABLE]
    if listed and all(before is None for before, _ in listed):
        first = min(after.recorded_at for _, after in listed)
        return [FirstSeen(target=listed[0][1].target, adapter=None, change="first_seen", after_at=first)]
    events = [event for before, after in listed for event in changes(before, after, facts_fn)]
    if findings_fn is not None:
        from ._asset_changes import asset_changes

        events += asset_changes(listed, findings_fn)
    return events


def facts_from(adapters: Mapping[str, Adapter[Any]]) -> FactsFn:
    """The facts function of these adapter instances; an unknown adapter or one whose
    facts() fails has no facts (so only "data changed" is said of it)."""

    def facts(adapter: str, data: dict[str, Any]) -> Facts | None:
        instance = adapters.get(adapter)
        if instance is None:
            return None
        try:
            return instance.facts(data)
        except Exception as exc:  # a bug in one adapter's facts() must not stop a diff
            log.debug("%s.facts failed: %r", adapter, exc)
            return None

    return facts


def _facts(observation: Observation, facts_fn: FactsFn) -> dict[str, frozenset[str] | Scalar] | None:
    if observation.status == "empty" or observation.data is None:
        return {}
    found = facts_fn(observation.adapter, observation.data)
    if found is None:
        return None
    return {str(name): _normal(value) for name, value in found.items()}


def _normal(value: Any) -> frozenset[str] | Scalar:
    """Sets of strings and JSON scalars as they are; lists and tuples as sets; anything
    else as canonical JSON text."""
    if isinstance(value, frozenset) and all(type(v) is str for v in value):
        return value  # as the contract asks: nothing to convert
    if isinstance(value, set | frozenset | list | tuple):
        return frozenset(v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _nothing(value: frozenset[str] | Scalar) -> frozenset[str] | Scalar:
    return frozenset() if isinstance(value, frozenset) else None


def _as_set(value: frozenset[str] | Scalar) -> frozenset[str]:
    if isinstance(value, frozenset):
        return value
    return frozenset() if value is None else frozenset({str(value)})
