"""A sixth adapter joins the fault matrix without any list being edited: its package (written
here, registered as pip would), one fake service added to the world, and the matrix's own
machinery (tests/fault_kit.py) plans and runs it against the world's generic faults."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fault_kit import plans, run_plan
from tests.plugin_kit import install_plugin, key_vars
from tests.world.base import Request
from tests.world.declare import DOMAINS, IPS, Serves
from tests.world.faults import DIRECT, FOLLOWED, HTTP_FAULTS, Matrix
from tests.world.http_server import Reply, Service
from tests.world.services import default_services
from tests.world.world import World

SOURCE = """
from typing import Any

from pydantic import Field

from osint_fanout import (
    Adapter, AdapterError, AdapterOptions, Context, KeyPolicy, NotFound, Target, TargetKind, UpstreamUrl,
)


class SixthOptions(AdapterOptions):
    base_url: UpstreamUrl = Field("https://api.sixth.invalid", description="Where the sixth API lives.")


class Plugin(Adapter[SixthOptions]):
    name = "__NAME__"
    description = "Tags the sixth API gives a target"
    kinds = frozenset(__KINDS__)
    key = KeyPolicy.__POLICY__
    key_env = __KEY_ENV__
    default_timeout_s = 10.0
    Options = SixthOptions

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        headers = {"x-api-key": self.api_key} if self.api_key else None
        url = f"{self.options.base_url}/v1/lookup/{target.value}"
        response = await ctx.http.get(url, headers=headers, upstream="api")
        if response.status == 404:
            raise NotFound()
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("tags"), list):
            raise AdapterError("parse", f"{response.where}: no list of tags in the answer")
        return {"tags": [str(tag) for tag in body["tags"]]}

    def summarize(self, data: dict[str, Any]) -> str:
        return f"{len(data['tags'])} tags"
"""


@dataclass(frozen=True)
class Sixth:
    name: str
    keyed: bool
    key_env: str | None
    root: Path


def sixth_service(sixth: Sixth) -> Service:
    """The one fake service the sixth adapter needs: GET /v1/lookup/{target}, key in x-api-key."""

    class SixthApi(Service):
        name = f"{sixth.name}_api"
        serves = Serves(sixth.name, "base_url", IPS if sixth.keyed else DOMAINS, key=sixth.keyed)
        matrix = Matrix() if sixth.keyed else Matrix(expect=FOLLOWED)  # keyless: redirects are followed

        def target(self, path: str, query: dict[str, list[str]]) -> str | None:
            parts = [part for part in path.split("/") if part]
            return parts[2] if len(parts) == 3 and parts[:2] == ["v1", "lookup"] else None

        def answer(self, request: Request, replace: dict[str, str] | None) -> Reply:
            if self.serves.key and request.headers.get("x-api-key") != self.key:
                return self.unauthorized(401)
            return Reply.json(200, {"target": request.target, "tags": ["loopback", "sixth"]})

    return SixthApi()


@pytest.fixture(params=[False, True], ids=["keyless", "keyed"])
def sixth(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sixth]:
    """A sixth adapter, installed for the CLI (PYTHONPATH) and for this process (sys.path):
    keyless for domains, or needing a key (in a variable not named *_API_KEY) for IPs."""
    keyed: bool = request.param
    name = "sixth_keyed" if keyed else "sixth"
    key_env = "SIXTH_TOKEN" if keyed else None
    source = (
        SOURCE.replace("__NAME__", name)
        .replace("__KINDS__", "{TargetKind.IPV4, TargetKind.IPV6}" if keyed else "{TargetKind.DOMAIN}")
        .replace("__POLICY__", "REQUIRED" if keyed else "NONE")
        .replace("__KEY_ENV__", repr(key_env))
    )
    root = install_plugin(tmp_path / "plugins", name, source)
    monkeypatch.syspath_prepend(str(root))
    yield Sixth(name, keyed, key_env, root)
    sys.modules.pop(f"ofp_{name}", None)


def test_the_fault_matrix_runs_a_sixth_adapter_against_the_generic_faults(
    world: World, sixth: Sixth, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sixth.name not in world.registry.adapters  # the world started before the plugin was there
    world.add_service(sixth_service(sixth))  # after start: its server starts at once
    assert sixth.name in world.registry.adapters  # the registry was read again
    assert world.adapters()[-1] == sixth.name and len(world.adapters()) == 7  # six built in (asn the sixth)

    (plan,) = [plan for plan in plans(world.services.values(), world.registry.adapters) if plan.adapter == sixth.name]
    assert plan.service == f"{sixth.name}_api" and list(plan.faults) == list(HTTP_FAULTS)
    expected = DIRECT | ({} if sixth.keyed else FOLLOWED)
    assert {fault: expect for fault, (_, expect) in plan.faults.items()} == expected
    assert plan.kind.value == ("ipv4" if sixth.keyed else "domain")

    config = world.config(keys=True)["adapters"][sixth.name]
    assert config["base_url"] == world.url(f"{sixth.name}_api") and config["rate_limit"] == "off"
    if sixth.keyed:  # a key of its own, in the variable the adapter declares, kept from other runs
        assert config["api_key"] == world.keys[sixth.name]
        assert world.key_env()[sixth.key_env] == world.keys[sixth.name]
        assert sixth.key_env in key_vars()
        monkeypatch.setenv(sixth.key_env, "inherited-from-the-shell")
        assert sixth.key_env not in world.cli_env()  # never inherited by the CLI
    else:
        assert sixth.name not in world.keys and "api_key" not in config

    # The same run and checks as every plan of the fault matrix: the sixth adapter's status
    # and error type for each fault, the built-in adapters intact, the deadline, the
    # schemas, the exit code, no traceback, the keys at home.
    run_plan(world, plan, fmt="ndjson" if sixth.keyed else "json", env={"PYTHONPATH": str(sixth.root)})
    asked = world.requests(f"{sixth.name}_api")
    assert len({r.target for r in asked}) == len(HTTP_FAULTS)  # every fault reached the new service
    if sixth.keyed:
        assert all(r.headers.get("x-api-key") == world.keys[sixth.name] for r in asked)


def test_the_default_world_and_matrix_know_nothing_of_it(sixth: Sixth) -> None:
    """Nothing in the project lists the sixth adapter: only the test's world serves it."""
    assert all(s.serves is None or s.serves.adapter != sixth.name for s in default_services())
    with World() as world:
        assert sixth.name not in world.adapters()
        assert sixth.name not in world.config()["adapters"]
        assert sixth.name not in {plan.adapter for plan in plans(world.services.values(), world.registry.adapters)}


def test_the_sixth_service_answers_in_its_format(world: World, sixth: Sixth) -> None:
    world.add_service(sixth_service(sixth))
    url = f"{world.url(f'{sixth.name}_api')}/v1/lookup/192.0.2.1"
    with httpx.Client(trust_env=False, timeout=5.0) as http:
        answer = http.get(url, headers={"x-api-key": world.keys.get(sixth.name, "")})
        assert (answer.status_code, answer.json()["tags"]) == (200, ["loopback", "sixth"])
        refused = http.get(url, headers={"x-api-key": "wrong"})
        assert refused.status_code == (401 if sixth.keyed else 200)
        world.behave(f"{sixth.name}_api", "192.0.2.1", "not_found")
        assert http.get(url).status_code == 404
