"""Pivot (`search --depth N`): found names and addresses become targets of the same run,
within a conservative, explainable scope. See docs/pivot.md."""

from ._feedback import Pivot, PivotOptions
from ._run import make_pivot, scope_plan
from ._scope import Reason, Scope, ScopeError, registered_domain
from ._wildcard import Wildcards, adapter_resolver

__all__ = [
    "Pivot",
    "PivotOptions",
    "Reason",
    "Scope",
    "ScopeError",
    "Wildcards",
    "adapter_resolver",
    "make_pivot",
    "registered_domain",
    "scope_plan",
]
