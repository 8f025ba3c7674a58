"""metrics.yaml as frozen, strict models — the only shape of the spec the rest of bizenv sees.

Built from metrics.yaml by kpi.spec.load.load_spec, which also runs the semantic checks of
kpi.spec.validate. Nothing downstream reads the raw dicts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Source = Literal["approvals", "hotline", "ratings", "reports"]
Direction = Literal["higher_is_better", "lower_is_better"]
Scalar = bool | int | float | str

# The city KPI cards when metrics.yaml has no `headline:` (written into each snapshot at build).
DEFAULT_HEADLINE = (
    "hotline_resolution_rate",
    "hotline_satisfaction_rate",
    "ratings_good_rate",
    "approval_avg_workdays",
    "approval_online_rate",
)


class _Model(BaseModel):
    # strict: a quoted "0.3" weight is an error, not silently a number; frozen: specs are values.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Filter(_Model):
    """One condition on a canonical column; values are always bound as parameters."""

    column: str
    op: Literal["=", "!=", "in", "not_in", ">", ">=", "<", "<=", "is_null", "not_null"] = "="
    value: Scalar | tuple[Scalar, ...] | None = Field(default=None, union_mode="left_to_right")

    @field_validator("value", mode="before")
    @classmethod
    def _list_to_tuple(cls, v):
        # YAML gives lists; strict mode would refuse them for a tuple.
        return tuple(v) if isinstance(v, list) else v


class Aggregate(_Model):
    """`agg` over `expr` (an SQL expression over the source's columns and $settings)."""

    agg: Literal["avg", "sum", "count", "count_if", "min", "max"]
    expr: str


class Ratio(_Model):
    numerator: Aggregate
    denominator: Aggregate


class Dtf(_Model):
    best: float
    worst: float


class Indicator(_Model):
    id: str
    key: str
    label_zh: str
    label_en: str | None = None
    description: str
    unit: str
    source: Source
    filters: tuple[Filter, ...] = Field(default=(), strict=False)  # YAML lists → tuples
    measure: Aggregate | None = None
    ratio: Ratio | None = None
    direction: Direction
    weight: float
    dtf: Dtf
    warn: float | None = None  # 预警值: worse than this → red
    advanced: float | None = None  # 先进值: at or better than this → green
    min_sample: int | None = None  # default: defaults.min_sample (1 for reports)
    owner: str | None = None  # 责任部门 that files / answers for it; default: the domain's 牵头部门
    neutral_band: float | None = (
        None  # in the indicator's unit; default derived from defaults.neutral_band
    )

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher_is_better"

    @property
    def scale(self) -> float:
        """Ratios are shown as percentages when the unit is '%'."""
        return 100.0 if self.unit == "%" else 1.0


class Domain(_Model):
    id: str
    key: str
    label_zh: str
    label_en: str | None = None
    weight: float
    owner: str | None = None  # 牵头部门
    indicators: tuple[Indicator, ...] = Field(min_length=1, strict=False)


class ScoreBands(_Model):
    red_below: float = 60.0
    green_from: float = 85.0


class Defaults(_Model):
    min_sample: int = 20
    min_scored_weight: float = 0.5
    rank_tie_rule: Literal["min", "dense", "ordinal"] = "min"
    rank_precision: int = 2
    neutral_band: float = 0.5
    score_bands: ScoreBands = ScoreBands()


class City(_Model):
    code: str
    name: str


class MetricsSpec(_Model):
    version: str
    # Ignored: the city's name and code come from the catalogue (districts.csv, level=city), so
    # one spec serves any city. Still accepted so that a metrics.yaml written before stays valid.
    city: City | None = None
    defaults: Defaults = Defaults()
    settings: dict[str, Scalar] = {}
    headline: tuple[str, ...] = Field(default=(), strict=False)
    domains: tuple[Domain, ...] = Field(min_length=1, strict=False)

    def indicators(self) -> list[tuple[Domain, Indicator]]:
        return [(d, i) for d in self.domains for i in d.indicators]

    def indicator(self, key: str) -> Indicator:
        for _, ind in self.indicators():
            if ind.key == key:
                return ind
        raise KeyError(key)

    def min_sample(self, ind: Indicator) -> int:
        if ind.min_sample is not None:
            return ind.min_sample
        return 1 if ind.source == "reports" else self.defaults.min_sample

    def neutral_band(self, ind: Indicator) -> float:
        """Band for value changes: explicit, or the default score band converted to value units."""
        if ind.neutral_band is not None:
            return ind.neutral_band
        return self.defaults.neutral_band * abs(ind.dtf.worst - ind.dtf.best) / 100.0


# ── loading with line numbers ────────────────────────────────────────────────────────────────
