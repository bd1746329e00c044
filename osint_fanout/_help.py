"""Help that says what each option takes, and shell completion of adapter names.

Typer shows a Python type beside every option (`<bool>` on a flag, `<list[str]>`, `-v
<int>`) and ignores a metavar. Here a flag shows no value, an option with a metavar shows
it (`-a NAME[,NAME...]`), and a default given as text is shown as it is (`[default: 60]`),
never read as Rich markup. Importing this module costs nothing: Typer is loaded already.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer import _click  # Typer's own Click, for the types only

__all__ = ["ADAPTER_GROUP", "Command", "Group", "complete_adapter_names"]

ADAPTER_GROUP = "osint_fanout.adapters"
"""The plugin entry-point group (the same as `_plugins.ENTRY_POINT_GROUP`, which this
module does not import: completion must stay fast)."""


class _Option(TyperOption):
    def display_type_rich(self, ctx: _click.Context) -> str | None:
        if self.is_flag or self.count:
            return None  # a flag takes no value
        if self.metavar:
            return self.metavar
        return super().display_type_rich(ctx)

    def _get_default_string(self, *, ctx: _click.Context, show_default_is_str: bool, default_value: Any) -> str:
        if show_default_is_str:
            return str(self.show_default)  # as written, without Click's parentheses
        return super()._get_default_string(
            ctx=ctx, show_default_is_str=show_default_is_str, default_value=default_value
        )


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: _click.Context) -> str | None:
        if self.metavar:
            return None  # its name, the metavar, says it already
        return super().display_type_rich(ctx)


def _adopt(params: list[_click.Parameter]) -> list[_click.Parameter]:
    """Give Typer's parameters the display above. They are built inside Typer, which
    offers no hook for their class; the subclasses add no state, only display."""
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _Option
        elif type(param) is TyperArgument:
            param.__class__ = _Argument
    return params


class Command(TyperCommand):
    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        return _adopt(super().get_params(ctx))

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:
            _refuse_repeats(self, ctx, args)
        return super().parse_args(ctx, args)


def _refuse_repeats(command: TyperCommand, ctx: _click.Context, args: list[str]) -> None:
    """An option that takes one value, given twice, is a usage error: Click would keep the
    last one silently (`--deadline 5 --deadline 50`). Options that may be repeated say so
    (`multiple`: -a, -i; `count`: -v); a flag given twice means what it means once."""
    from typer._click.exceptions import UsageError

    try:
        _, _, order = command.make_parser(ctx).parse_args(args=list(args))
    except UsageError:
        return  # the real parse says what is wrong
    seen: dict[str, int] = {}
    for param in order:
        if isinstance(param, TyperOption) and not (param.multiple or param.count or param.is_flag):
            name = param.opts[0] if param.opts[0].startswith("--") else max(param.opts, key=len)
            seen[name] = seen.get(name, 0) + 1
            if seen[name] == 2:
                raise UsageError(f"{name} was given more than once; give it once", ctx)


class Group(TyperGroup):
    def get_params(self, ctx: _click.Context) -> list[_click.Parameter]:
        return _adopt(super().get_params(ctx))


def complete_adapter_names(incomplete: str) -> list[str]:
    """Installed adapter names for `-a` and `-x`, after any already typed: `dns,w` offers
    `dns,whois`. Entry-point names only, without importing the plugins: a TAB stays fast."""
    from importlib.metadata import entry_points

    typed, _, last = incomplete.rpartition(",")
    chosen = {name.strip().lower() for name in typed.split(",")} if typed else set()
    prefix = f"{typed}," if typed else ""
    names = sorted({point.name for point in entry_points(group=ADAPTER_GROUP)})
    return [f"{prefix}{name}" for name in names if name.startswith(last.lower()) and name not in chosen]
