"""The published JSON Schemas of the json and ndjson outputs.

The files in osint_fanout/schemas/ are generated from the result models by
`python -m osint_fanout._schema` and committed; a test fails when they drift, so that
any change to the output format is a deliberate one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from ._results import Report, Result, SummaryLine
from .store._changes import ChangeEvent

__all__ = ["SCHEMA_DIR", "schemas"]

SCHEMA_DIR = Path(__file__).parent / "schemas"
_BASE_ID = "https://github.com/osint-fanout/osint-fanout/schemas"
_BUILT_IN = "osint_fanout_adapters."


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for `json` (one Report per target), `ndjson` (one Result per line)
    and `changes` (one change event: a line of `diff -f ndjson`, an item of `diff -f json`)."""
    out = {}
    ndjson: TypeAdapter[BaseModel] = TypeAdapter(Result | SummaryLine)  # type: ignore[arg-type]
    events: TypeAdapter[Any] = TypeAdapter(ChangeEvent)
    for name, schema, title in (
        ("json", Report.model_json_schema(), "osint-fanout json output: one object per target"),
        ("ndjson", ndjson.json_schema(), "osint-fanout ndjson output: one line per result (and a summary)"),
        ("changes", events.json_schema(), "osint-fanout change event: one line of diff's ndjson output"),
    ):
        out[f"{name}.schema.json"] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{_BASE_ID}/{name}.schema.json",
            **_with_adapter_data(schema),
            "title": title,
        }
    return out


def _with_adapter_data(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the data of each built-in adapter that describes it (`Adapter.data_schema()`
    returning a JSON Schema, its definitions in "$defs"): a result of that adapter has that data,
    or null. The built-in ones only, so that the published files do not depend on the plugins
    installed; the core knows them only through the entry-point group."""
    from importlib.metadata import entry_points

    from ._plugins import ENTRY_POINT_GROUP

    defs = schema.get("$defs", {})
    results = [name for name in ("AdapterResult", "Result") if name in defs]
    if not results:  # a schema without results has no adapter data
        return schema
    rules = []
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name):
        described = point.load().data_schema() if point.value.startswith(_BUILT_IN) else None
        if described is None:
            continue
        data = dict(described)
        own = data.pop("$defs", {})
        assert not set(own) & set(defs), f"{point.name}: data definitions {set(own) & set(defs)} collide"
        defs |= own | {f"{point.name}_data": data}
        mine = {"properties": {"adapter": {"const": point.name}}, "required": ["adapter"]}
        data_or_null = {"anyOf": [{"$ref": f"#/$defs/{point.name}_data"}, {"type": "null"}]}
        rules.append({"if": mine, "then": {"properties": {"data": data_or_null}}})
    for name in results if rules else []:
        defs[name]["allOf"] = rules
    return schema


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for file_name, schema in schemas().items():
        (SCHEMA_DIR / file_name).write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
