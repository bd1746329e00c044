"""`osint-fanout assets TARGET`: the stored attack surface, for pipelines and with provenance."""

from __future__ import annotations

from pathlib import Path

from tests.world.world import World


def test_assets_lists_what_a_search_stored(world: World, tmp_path: Path) -> None:
    store = ("--store", f"sqlite:///{tmp_path / 's.db'}")
    world.add_records("example.com", {"A": ["198.51.100.7"], "CNAME": ["edge.example.net."], "NS": ["ns1.other.org."]})
    world.add_records("edge.example.net", {"A": ["198.51.100.8"]})
    run = world.run_cli("search", "example.com", "198.51.100.7", "-a", "dns,ct,asn", "-f", "json", *store)
    assert run.code == 0, run.stderr

    names = world.run_cli("assets", "example.com", "--type", "domain", *store)
    assert names.code == 0, names.stderr
    listed = names.stdout.splitlines()
    assert {"example.com", "www.example.com", "ns1.other.org", "edge.example.net"} <= set(listed)
    assert listed == sorted(listed)  # one value a line, stable

    resolved = world.run_cli("assets", "example.com", "-t", "domain", "--resolved-only", *store).stdout.splitlines()
    assert resolved == ["example.com"]  # the only name stored with an address (the CNAME's target was not asked)

    ip = world.run_cli("assets", "198.51.100.7", "-t", "netblock,asn", *store)
    assert ip.stdout.splitlines() == ["AS64500", "AS64501", "198.51.0.0/16", "198.51.100.0/24"], ip.stderr

    full = world.run_cli("assets", "198.51.100.7", "-t", "asn", "-f", "json", *store).json()
    assert full["seed"] == "198.51.100.7"
    first = full["assets"][0]
    assert first["type"] == "autonomous-system" and first["attrs"]["name"].startswith("WORLD-NET")
    assert [(seen["adapter"], seen["target"]) for seen in first["found_by"]] == [("asn", "198.51.100.7")]
    assert {"source": "netblock:198.51.100.0/24", "kind": "announced-by", "target": "autonomous-system:AS64500"} in [
        {k: r[k] for k in ("source", "kind", "target")} for r in full["relations"]
    ]


def test_assets_exit_codes(world: World, tmp_path: Path) -> None:
    store = ("--store", f"sqlite:///{tmp_path / 's.db'}")
    assert world.run_cli("search", "example.com", "-a", "dns", "-f", "json", *store).code == 0
    nothing = world.run_cli("assets", "example.org", *store)
    assert nothing.code == 1 and nothing.stdout == "" and "no assets stored for example.org" in nothing.stderr
    none_of_type = world.run_cli("assets", "example.com", "-t", "service", *store)
    assert none_of_type.code == 1 and none_of_type.stdout == ""
    for bad in (["-t", "planet"], ["--since", "soon"], ["not a target!"]):
        args = bad if bad[0].startswith("-") else []
        target = bad[0] if not args else "example.com"
        run = world.run_cli("assets", target, *args, *store)
        assert run.code == 2 and "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    missing = world.run_cli("assets", "example.com", "--store", f"sqlite:///{tmp_path / 'none.db'}")
    assert missing.code == 3 and "no such file" in missing.stderr
