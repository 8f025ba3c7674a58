"""Which records a reader may see: the row-level part of an account's scope, as SQL.

office.roles turns an account (区县 bound to a district, 部门 bound to a department …) into a
RecordScope; kpi.read.queries.records / records_count put it into the WHERE clause of the very
query that reads the records, so a page that forgets to filter, a hand-edited URL or a download
can never see more than the scope allows. Who owns an indicator is metrics.yaml's `owner` on the
indicator, else its domain's 牵头部门.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kpi.sql import Params

Filter = tuple[str, tuple[tuple[str, object], ...]]  # (SQL, its named parameters)


@dataclass(frozen=True)
class RecordScope:
    """Rows a reader may see. `district_code`: only that district's; `any_of`: only rows matching
    at least one of these filters (an empty tuple: none); `nothing`: no rows at all."""

    district_code: str | None = None
    any_of: tuple[Filter, ...] | None = None
    nothing: bool = False
    label: str = ""  # 柯城区 / 市市场监管局 — for messages

    def where(self, params: Params) -> list[str]:
        """The WHERE conditions (ANDed with the page's own), their values added to `params`."""
        if self.nothing or (self.any_of is not None and not self.any_of):
            return ["FALSE"]
        out = []
        if self.district_code is not None:
            out.append(f"district_code = {params.add(self.district_code)}")
        if self.any_of:
            out.append("(" + " OR ".join(f"({sql})" for sql, _ in self.any_of) + ")")
            for _, values in self.any_of:
                params.values.update(dict(values))
        return out


EVERYTHING = RecordScope()
NOTHING = RecordScope(nothing=True)


def owner_of(indicator, domain) -> str | None:
    """The department answerable for an indicator: its own `owner`, else its domain's."""
    return getattr(indicator, "owner", None) or getattr(domain, "owner", None)


def departments(spec) -> list[str]:
    """Every department that owns an indicator in metrics.yaml, in the order they first appear."""
    seen: list[str] = []
    for dom in spec.domains if spec else ():
        for ind in dom.indicators:
            owner = owner_of(ind, dom)
            if owner and owner not in seen:
                seen.append(owner)
    return seen


def owned_indicators(spec, department: str) -> list[tuple[Any, Any]]:
    """(indicator, domain) pairs the department owns."""
    return [
        (ind, dom)
        for dom in (spec.domains if spec else ())
        for ind in dom.indicators
        if owner_of(ind, dom) == department
    ]
