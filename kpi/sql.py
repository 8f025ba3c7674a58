"""Building SQL text safely: quoted identifiers, the few literals that can't be bound, and named
parameters — the one helper the compiler, the scans and the read queries share.

Values are bound as named parameters (`$approvals_3`), never pasted into the text, so the order in
which fragments are glued together no longer has to match the order of a positional `?` list.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def ident(name: str) -> str:
    """A quoted identifier: "case_id", "a""b"."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """An SQL string literal, for the statements that take no parameters (SET, PRAGMA)."""
    return "'" + text.replace("'", "''") + "'"


class Params:
    """Named parameters of one statement: `add(value)` returns its placeholder ('$p_0').

    Equal values (of the same type: True is not 1) share one name, so a fragment compiled twice
    reads the same — the compiler dedupes fragments by their text. `values` is what to pass to
    `con.execute(sql, values)`; it holds exactly the names handed out."""

    def __init__(self, prefix: str = "p"):
        if not _NAME.fullmatch(prefix):
            raise ValueError(f"parameter prefix {prefix!r} is not a plain name")
        self.prefix = prefix
        self.values: dict[str, object] = {}
        self._names: dict[tuple, str] = {}

    def add(self, value) -> str:
        key = (type(value).__name__, value if _hashable(value) else repr(value))
        name = self._names.get(key)
        if name is None:
            name = f"{self.prefix}_{len(self._names)}"
            self._names[key] = name
            self.values[name] = value
        return "$" + name

    def used_in(self, sql: str) -> dict[str, object]:
        """The values whose placeholders occur in `sql` (DuckDB refuses unused named values)."""
        found = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", sql))
        return {k: v for k, v in self.values.items() if k in found}

    def copy(self) -> Params:
        """The same names and values, to add a statement's own extras without touching these."""
        other = Params(self.prefix)
        other.values = dict(self.values)
        other._names = dict(self._names)
        return other


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
