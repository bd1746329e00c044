"""Help that says what each option takes, errors in our words, and shell completion of
adapter names.

Typer shows a Python type beside every option (`<bool>` on a flag, `<list[str]>`, `-v
<int>`) and ignores a metavar. Here a flag shows no value, an option with a metavar shows
it (`-a NAME[,NAME...]`), and a default given as text is shown as it is (`[default: 60]`),
never read as Rich markup. A required argument is `TARGET` in the usage line, not
Typer's `{TARGET}`. A value Typer cannot convert is explained in our words ("give a
number"), not pydantic's ("Input should be a valid number, unable to parse string...").
Importing this module costs nothing: Typer is loaded already.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typer import BadParameter
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer import _click  # Typer's own Click, for the types only

__all__ = ["ADAPTER_GROUP", "ROOT_EXAMPLES", "SEARCH_EXAMPLES", "Command", "Group", "complete_adapter_names"]

ADAPTER_GROUP = "osint_fanout.adapters"
"""The plugin entry-point group (the same as `_plugins.ENTRY_POINT_GROUP`, which this
module does not import: completion must stay fast)."""


DOCS = "The reference: docs/*.md in the source (configuration, output, running, store, adapters, security)."

ROOT_EXAMPLES = f"""Examples:
  # every source at once, in a live table
  osint-fanout search example.com
  # JSON, into jq
  osint-fanout search 198.51.100.7 -f json | jq .
  # the adapters and their keys; where the config and the store are
  osint-fanout adapters
  osint-fanout paths
  # what changed since the run before
  osint-fanout diff example.com
Each command has its own --help. Shell completion: osint-fanout --install-completion.
{DOCS}"""
# The unindented last lines keep the examples' indentation (help text is dedented).

SEARCH_EXAMPLES = """Examples:
  # a live table on a terminal
  osint-fanout search example.com
  # JSON, into jq
  osint-fanout search 198.51.100.7 -f json | jq .
  # only two adapters
  osint-fanout search example.com -a dns,ct
  # a list of targets, appended line by line; run it again to finish what is missing
  osint-fanout search -i domains.txt -f ndjson -o out.ndjson --resume
  # only what changed since the stored results (cron); reuse results younger than 12h
  osint-fanout search -i domains.txt --changes --max-age 12h
  # follow what is found, two steps from the seed (scope: its registered domain)
  osint-fanout search example.com --depth 2 -f ndjson
More in docs/configuration.md and docs/output.md of the source: the config file, formats, exit codes."""
# The unindented last line keeps the examples' indentation (help text is dedented).


def _plainly(param: Any, ctx: _click.Context, value: Any, exc: BadParameter) -> BadParameter:
    """`exc` (from Typer's conversion, in pydantic's words) said plainly."""
    cause = exc.__cause__
    errors = cause.errors() if hasattr(cause, "errors") else []
    if not errors:
        return exc
    first = errors[0]
    kind, limits = first.get("type", ""), first.get("ctx") or {}
    descriptor = param.type_descriptor
    shown = repr(value if not isinstance(value, list | tuple) else first.get("input"))
    if descriptor.is_choice and descriptor.choices:
        choices = ", ".join(str(getattr(choice, "value", choice)) for choice in descriptor.choices)
        message = f"{shown} is not one of: {choices}"
    elif kind.startswith("int_"):
        message = f"give a whole number, not {shown}"
    elif kind.startswith("float_"):
        message = f"give a number, not {shown}"
    elif kind in _BOUNDS:
        bound = next(iter(limits.values()), "?")
        message = f"give a number {_BOUNDS[kind]} {bound}, not {first.get('input')!r}"
    else:
        message = str(first.get("msg", exc.message)).removeprefix("Value error, ")
    return BadParameter(message, ctx=ctx, param=param)


_BOUNDS = {
    "greater_than_equal": "of at least",
    "greater_than": "above",
    "less_than_equal": "of at most",
    "less_than": "below",
}


def _converted(process: Any, param: Any, ctx: _click.Context, value: Any) -> Any:
    """Typer's conversion (`process`), its errors said plainly."""
    try:
        return process(ctx, value)
    except BadParameter as exc:
        if exc.__cause__ is None:
            raise
        raise _plainly(param, ctx, value, exc) from None


class _Option(TyperOption):
    def process_value(self, ctx: _click.Context, value: Any) -> Any:
        return _converted(super().process_value, self, ctx, value)

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
    def process_value(self, ctx: _click.Context, value: Any) -> Any:
        return _converted(super().process_value, self, ctx, value)

    def display_type_rich(self, ctx: _click.Context) -> str | None:
        if self.metavar:
            return None  # its name, the metavar, says it already
        return super().display_type_rich(ctx)

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return f"{name}..." if self.nargs != 1 else name


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
