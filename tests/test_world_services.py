"""The world's service declarations (tests/world/declare.py, faults.py): every adapter has a
service, the declarations agree with the adapters' metadata, services can be added at run
time, and the fault matrix's plans follow the declarations (tests/fault_kit.py)."""

from __future__ import annotations

import tomllib
from typing import Any

import dns.rcode
import httpx
import pytest

from osint_fanout import KeyPolicy, TargetKind
from osint_fanout._adapter import key_urls
from osint_fanout._settings import load_settings
from tests.fault_kit import intact, key_services, plans
from tests.world.declare import DOMAINS, IPS, Form, Serves, Upstream
from tests.world.faults import DIRECT, HTTP_FAULTS, OK, Fault, Matrix
from tests.world.probe import dns_ask
from tests.world.services import Dns, InternetDb
from tests.world.world import World

IP = "198.51.100.7"


def rcode(world: World, service: str, name: str) -> str:
    return dns.rcode.to_text(dns_ask(world.servers[service].port, name, "A").rcode())  # type: ignore[attr-defined]


def like(base: type[Upstream], name: str, serves: Serves | None = None, matrix: Matrix | None = None) -> Upstream:
    """A service like `base` under another name, with `serves` (default: base's) and
    `matrix` (default: the default Matrix)."""
    attributes: dict[str, Any] = {"name": name, "matrix": matrix or Matrix()}
    if serves is not None:
        attributes["serves"] = serves
    return type(f"Test{base.__name__}", (base,), attributes)()


def test_every_built_in_adapter_has_a_service_in_the_world(world: World) -> None:
    built_in = [
        name for name, cls in world.registry.adapters.items() if cls.__module__.startswith("osint_fanout_adapters.")
    ]
    assert len(built_in) >= 5
    for name in built_in:
        assert world.services_of(name), f"the {name} adapter has no fake service in tests/world/services.py"
    assert set(world.adapters()) == set(built_in)


def test_declarations_agree_with_the_adapters_metadata(world: World) -> None:
    """A service that gets the key is one the adapter may send it to (an UpstreamUrl), and
    a keyed adapter's keyless upstreams (KeylessUrl) are declared so."""
    settings = load_settings(world.registry, world.write_config(keys=True), env={})
    checked = 0
    for service in world.services.values():
        serves = service.serves
        assert serves is not None
        cls = world.adapter(serves.adapter)
        assert serves.kinds & cls.kinds, f"{service.name} answers for nothing its adapter asks about"
        if serves.form is Form.URL and cls.key is not KeyPolicy.NONE:
            assert (serves.option in key_urls(settings.options[serves.adapter])) == serves.key, service.name
            checked += 1
    assert checked >= 4
    keyed = {name for name in world.adapters() if world.adapter(name).key is not KeyPolicy.NONE}
    assert set(world.keys) == keyed and {"shodan", "virustotal", "ct"} <= keyed
    assert world.key_env() == {world.adapter(name).key_env: key for name, key in world.keys.items()}
    allowed = key_services(world)
    assert (allowed["shodan"], allowed["virustotal"], allowed["ct"]) == ({"shodan"}, {"virustotal"}, {"certspotter"})


def test_a_service_added_before_start_joins_the_config() -> None:
    with World() as first:
        default = first.config()["adapters"]["dns"]["nameservers"]
    world = World()
    world.add_service(like(Dns, "dns2"))  # a second name server for the same list option
    with world:
        nameservers = world.config()["adapters"]["dns"]["nameservers"]
        assert nameservers == [world.url("dns"), world.url("dns2")] and len(default) == 1
        assert world.dns is world.servers["dns"]
        world.behave("dns2", "example.com", "servfail")
        assert (rcode(world, "dns", "example.com"), rcode(world, "dns2", "example.com")) == ("NOERROR", "SERVFAIL")


def test_a_service_added_after_start_answers_at_once_and_takes_over_its_option(world: World) -> None:
    before = world.config()["adapters"]["shodan"]["internetdb_url"]
    world.add_service(like(InternetDb, "internetdb2"))
    url = world.url("internetdb2")
    assert url != before
    path = world.write_config()
    assert tomllib.loads(path.read_text())["adapters"]["shodan"]["internetdb_url"] == url  # the later one wins
    world.behave("internetdb2", IP, "not_found")
    with httpx.Client(trust_env=False, timeout=5.0) as http:
        assert http.get(f"{url}/{IP}").status_code == 404
        assert http.get(f"{url}/192.0.2.1").json()["ip"] == "192.0.2.1"
    assert [r.target for r in world.requests("internetdb2")] == [IP, "192.0.2.1"]
    world.behave("*", "*", "hang")
    assert world.http["internetdb2"].behaviours.take("x").name == "hang"


@pytest.mark.parametrize(
    ("service", "message"),
    [
        (like(InternetDb, "shodan"), "already has a service named 'shodan'"),
        (like(InternetDb, "trap"), "already has a service named 'trap'"),
        (like(InternetDb, "x", Serves("nosuch", "base_url")), "adapter 'nosuch' is not installed"),
        (like(InternetDb, "x", Serves("shodan", "base_uri")), r"\[adapters.shodan\] has no option 'base_uri'"),
        (like(InternetDb, "x", Serves("whois", "rdap_url", key=True)), "the whois adapter takes none"),
    ],
)
def test_a_service_that_declares_the_impossible_is_refused(world: World, service: Upstream, message: str) -> None:
    keys = dict(world.keys)
    with pytest.raises(ValueError, match=message):
        world.add_service(service)
    assert "x" not in world.services and len(world.servers) == len(world.services) + 1
    assert world.keys == keys


def test_plans_follow_the_declarations(world: World) -> None:
    adapters = world.registry.adapters
    (plain,) = plans([like(InternetDb, "idb", Serves("shodan", "internetdb_url", IPS))], adapters)
    assert (plain.name, plain.kind, plain.keys, plain.before) == ("idb-ip", TargetKind.IPV4, True, None)
    assert {name: expect for name, (_, expect) in plain.faults.items()} == DIRECT
    assert {name: made for name, (made, _) in plain.faults.items()} == HTTP_FAULTS
    both = plans([like(InternetDb, "both", Serves("shodan", "internetdb_url"))], adapters)
    assert [(p.name, p.kind) for p in both] == [("both-domain", TargetKind.DOMAIN), ("both-ip", TargetKind.IPV4)]
    assert plans([like(InternetDb, "ct_ip", Serves("ct", "crtsh_url", IPS))], adapters) == []  # ct: domains only
    skipped = like(InternetDb, "s", Serves("shodan", "internetdb_url"), Matrix(skip="not asked"))
    assert plans([skipped], adapters) == []
    own = Matrix(faults={"slow": Fault("slow")}, expect={"slow": OK}, kinds=DOMAINS)
    (dns_plan,) = plans([like(Dns, "d", Serves("dns", "nameservers", form=Form.ADDRESSES), own)], adapters)
    assert dns_plan.faults == {"slow": (Fault("slow"), OK)}


@pytest.mark.parametrize(
    ("base", "matrix", "message"),
    [
        (InternetDb, Matrix(expect={"redirekt": OK}), r"expect names unknown faults \['redirekt'\]"),
        (InternetDb, Matrix(source={"hang2": "whois"}), r"source names unknown faults \['hang2'\]"),
        (Dns, Matrix(faults={"slow": Fault("slow"), "hang": Fault("hang")}, expect={"slow": OK}), "no expectation"),
        (Dns, Matrix(), "no generic faults"),
    ],
)
def test_a_matrix_declaration_with_a_mistake_is_refused(
    world: World, base: type[Upstream], matrix: Matrix, message: str
) -> None:
    service = like(base, "bad", Serves("dns", "nameservers", form=Form.ADDRESSES), matrix)
    with pytest.raises(ValueError, match=f"service bad: .*{message}"):
        plans([service], world.registry.adapters)


def test_intact_statuses_come_from_the_declarations_and_the_metadata(world: World) -> None:
    assert intact(world, "dns", TargetKind.IPV4, keys=True) == {"ok", "empty"}  # declared by the dns service
    assert intact(world, "dns", TargetKind.DOMAIN, keys=True) == {"ok"}
    assert intact(world, "ct", TargetKind.IPV4, keys=True) == {"skipped"}  # ct handles domains only
    assert intact(world, "virustotal", TargetKind.IPV4, keys=False) == {"skipped"}  # its key is required
    assert intact(world, "virustotal", TargetKind.IPV4, keys=True) == {"ok"}
