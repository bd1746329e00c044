"""The fault matrix's machinery: plans derived from the world's services and the adapter
registry, and the run that checks one plan end to end (tests/test_fault_matrix.py).

A plan is one service, one kind of target, and every fault the service declares (the
generic HTTP faults of tests/world/faults.py unless it has its own), one target per fault.
Its run checks, for every target: the faulted adapter's status and error type (and which
source answered, where a fallback may), every other adapter intact as its services declare,
the run inside its deadline, stdout valid JSON or NDJSON against the published schemas, the
documented exit code, no traceback, and no key anywhere but in requests to its own services.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from osint_fanout import Adapter, KeyPolicy, TargetKind
from osint_fanout._schema import SCHEMA_DIR
from tests.timing import assert_ends_by
from tests.world.declare import Upstream
from tests.world.faults import HTTP_FAULTS, Expect, Fault
from tests.world.http_server import Service
from tests.world.world import World

DEADLINE_S = 3.0
# --no-store: the upstreams' faults and the deadline are under test; the end of a run also
# waits for the store's commit ([store] commit_timeout_s), which is not the deadline's time.
ARGS = ("--timeout", "2", "--deadline", str(DEADLINE_S), "--concurrency", "200", "-vv", "--no-store")
SCHEMAS = {name: json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text()) for name in ("json", "ndjson")}
PLANNED_KINDS = (TargetKind.DOMAIN, TargetKind.IPV4)
"""The kinds of target a plan may use (an IPv4 address stands for every IP)."""


@dataclass(frozen=True)
class Plan:
    name: str
    adapter: str
    service: str
    kind: TargetKind
    faults: dict[str, tuple[Fault, Expect]]
    """Fault name -> what makes it, what the adapter must make of it."""
    keys: bool = True
    before: tuple[str, Fault] | None = None
    source: Mapping[str, str] = field(default_factory=dict)


def plans(services: Iterable[Upstream], adapters: Mapping[str, type[Adapter[Any]]]) -> list[Plan]:
    """One plan per service and kind of target it answers for (and its adapter handles),
    unless the service's Matrix says why it has none. A declaration that names an unknown
    fault, or leaves one without expectation, raises ValueError."""
    found = []
    for service in services:
        serves, matrix = service.serves, service.matrix
        if serves is None or matrix.skip:
            continue
        generic = _generic_faults(service)
        try:
            faults = matrix.plan_faults(generic)
        except ValueError as exc:
            raise ValueError(f"service {service.name}: {exc}") from None
        handled = adapters[serves.adapter].kinds if serves.adapter in adapters else frozenset(TargetKind)
        kinds = (matrix.kinds if matrix.kinds is not None else serves.kinds) & handled
        for kind in (kind for kind in PLANNED_KINDS if kind in kinds):
            name = f"{service.name}-{'ip' if kind is TargetKind.IPV4 else kind.value}"
            found.append(
                Plan(name, serves.adapter, service.name, kind, faults, matrix.keys, matrix.before, matrix.source)
            )
    return found


def _generic_faults(service: Upstream) -> dict[str, Fault] | None:
    return HTTP_FAULTS if isinstance(service, Service) else None


def target_for(plan: Plan, index: int, fault: str) -> str:
    return f"198.51.100.{10 + index}" if plan.kind is TargetKind.IPV4 else f"{fault}.{plan.name}.example.com"


def intact(world: World, adapter: str, kind: TargetKind, *, keys: bool) -> frozenset[str]:
    """What an unfaulted adapter may say about a target of this kind: skipped when it does
    not handle the kind or requires a key it has not got, else what its services declare
    (an optional key's absence is not modelled: no plan runs keyless on what needs one)."""
    cls = world.adapter(adapter)
    if kind not in cls.kinds or (cls.key is KeyPolicy.REQUIRED and not keys):
        return frozenset({"skipped"})
    declared = [s.serves.intact_for(kind) for s in world.services_of(adapter) if s.serves and kind in s.serves.kinds]
    assert declared, f"no service in the world answers the {adapter} adapter for a {kind} target"
    return frozenset().union(*declared)


def run_plan(world: World, plan: Plan, *, fmt: str, env: dict[str, str] | None = None) -> None:
    """Run the CLI over every fault of `plan` (one target each) and check it all: once for
    the faults that can share a run, once more for each that must run alone."""
    world.write_config(keys=plan.keys, run={"max_body_bytes": 1 << 20})
    indexed = list(enumerate(plan.faults.items()))
    shared = [item for item in indexed if not item[1][1][0].alone]
    for group in [shared, *([item] for item in indexed if item[1][1][0].alone)]:
        if group:
            _run_group(world, plan, group, fmt=fmt, env=env)


def _run_group(
    world: World, plan: Plan, group: list[tuple[int, tuple[str, tuple[Fault, Expect]]]], *, fmt: str,
    env: dict[str, str] | None,
) -> None:
    targets: dict[str, str] = {}
    for index, (fault, (made, _)) in group:
        target = target_for(plan, index, fault)
        targets[target] = fault
        if plan.before:
            service, before = plan.before
            world.behave(service, target, before.behaviour, **before.params)
        world.behave(plan.service, target, made.behaviour, **made.params)
    keys = world.key_env() if plan.keys else {}
    run = world.run_cli("search", *targets, "-f", fmt, *ARGS, env=keys | (env or {}))

    assert_ends_by(run.wall_s, DEADLINE_S, plan.name)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    results = _results(run.stdout, fmt)
    assert {r["target"]["value"] for r in results} == set(targets), run.stderr[-3000:]
    others = {name: intact(world, name, plan.kind, keys=plan.keys) for name in world.adapters() if name != plan.adapter}
    failed = False
    for result in results:
        fault = targets[result["target"]["value"]]
        status, error_type = result["status"], (result["error"] or {}).get("type")
        failed |= status in ("error", "timeout", "cancelled")
        where = f"{plan.name}/{fault}/{result['adapter']}: {status} {result['error']}"
        if result["adapter"] != plan.adapter:
            assert result["adapter"] in others, f"{where}: an adapter the world does not serve"
            assert status in others[result["adapter"]], where
            continue
        statuses, expected_type = plan.faults[fault][1]
        assert status in statuses, where
        if expected_type is not None:
            assert error_type == expected_type, where
        if fault in plan.source:
            assert result["data"]["source"] == plan.source[fault], where
    assert {r["adapter"] for r in results} >= {plan.adapter, *others}, "an adapter gave no result"
    assert run.code == (1 if failed else 0)
    assert_keys_stay_home(world, run.stdout + run.stderr)


def _results(stdout: str, fmt: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines()]
    for line in lines:
        jsonschema.validate(line, SCHEMAS[fmt])
    if fmt == "ndjson":
        return lines
    return [result | {"target": report["target"]} for report in lines for result in report["results"]]


def key_services(world: World) -> dict[str, set[str]]:
    """The services each key may reach: its adapter's services that declare they get it."""
    return {
        adapter: {s.name for s in world.services_of(adapter) if s.serves is not None and s.serves.key}
        for adapter in world.keys
    }


def assert_keys_stay_home(world: World, output: str) -> None:
    allowed = key_services(world)
    for adapter, key in world.keys.items():
        assert key not in output, f"the {adapter} key leaked into the output"
        for request in world.requests():
            if key in request.raw or any(key in value for value in request.headers.values()):
                assert request.service in allowed[adapter], f"the {adapter} key reached {request.service}"
    assert not [r for r in world.requests("trap") if any(k in r.raw for k in world.keys.values())]
