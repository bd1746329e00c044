"""A tiny third-party adapter: it spells the target backwards."""

from typing import Any

from pydantic import Field

from osint_fanout import Adapter, AdapterOptions, Context, Target, TargetKind


class ReverseOptions(AdapterOptions):
    suffix: str = Field("", description="Text appended to the answer.")


class ReverseAdapter(Adapter[ReverseOptions]):
    name = "reverse"
    description = "Spells the target backwards (an example plugin)"
    kinds = frozenset({TargetKind.DOMAIN, TargetKind.IPV4})
    default_timeout_s = 2.0
    Options = ReverseOptions

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        return {"reversed": target.value[::-1] + self.options.suffix}

    def summarize(self, data: dict[str, Any]) -> str:
        return data["reversed"]
