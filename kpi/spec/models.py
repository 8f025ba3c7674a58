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

# The setting a ratings indicator counted by due date takes its deadline from (差评整改时限, working
# days after the rating): the quarter a 差评's rectification fell due in.
RECTIFY_LIMIT_SETTING = "rectify_limit_days"

# The equal weights' basis when metrics.yaml does not say otherwise.
EQUAL_WEIGHTS_BASIS = (
    "等权：未给出依据的权重一律相等（世界银行营商环境评价对各指标、各领域等权平均）。"
)

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
    when: str | None = None  # a true/false setting: the condition applies only while it is true

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
    basis: str | None = None  # 依据: the statutory limit, a target, a published figure, a baseline


class Coverage(_Model):
    """Not scored while too few of the records the value could rest on are behind it:
    n ÷ base × 100 < min (e.g. 解决率 over 回访ed tickets while 回访率 is below a floor)."""

    label: str  # what the share is called: 回访率
    base: Aggregate  # the records it could rest on, within the indicator's filters
    min: float | str  # percent, or "$setting"


class Reported(_Model):
    """A filed indicator whose value is 分子 ÷ 分母 (× 100 for %): what the two are."""

    numerator: str  # 审结案件数
    denominator: str  # 应结案件数


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
    weight: float | None = None  # None on every indicator of a domain: equal weights
    weight_basis: str | None = None  # why this weight (required where weights are not equal)
    dtf: Dtf
    warn: float | None = None  # 预警值: worse than this → red
    advanced: float | None = None  # 先进值: at or better than this → green
    min_sample: int | None = None  # default: defaults.min_sample (1 for reports)
    owner: str | None = None  # 责任部门 that files / answers for it; default: the domain's 牵头部门
    neutral_band: float | None = (
        None  # in the indicator's unit; default derived from defaults.neutral_band
    )
    # city: cannot differ between 区县 (national-law indices, customs, most court figures): shown on
    # the city's scorecard only, never ranked among districts or counted in a district's domain
    applies_to: Literal["district", "city"] = "district"
    # annual: compared year on year only (no quarter-on-quarter change, trend or rank change)
    update_cycle: Literal["quarterly", "annual"] = "quarterly"
    # due: counted in the quarter the item falls due (应办结: 办件/工单 due_period; 好差评: the
    # quarter the 差评's rectification deadline falls in), open or closed — for timeliness
    period_by: Literal["record", "due"] = "record"
    # items: each 事项 the district handled counts once (over the 事项 catalogue), not each 办件
    over: Literal["records", "items"] = "records"
    # columns without which the value means nothing: records from exports that lacked one are
    # left out, and a cell with only such records is "导出中没有该列" (never 0 %). Default: the
    # columns the numerator and denominator read.
    requires: tuple[str, ...] | None = Field(default=None, strict=False)
    coverage: Coverage | None = None
    reported: Reported | None = None  # reports: filed as 分子 and 分母
    multiplier: float | None = None  # ratio × this (default: 100 for %, 1000 for ‰, else 1)

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher_is_better"

    @property
    def scale(self) -> float:
        """Ratios are shown as percentages when the unit is '%' (per mille for '‰')."""
        if self.multiplier is not None:
            return self.multiplier
        return {"%": 100.0, "‰": 1000.0}.get(self.unit, 1.0)


class Domain(_Model):
    id: str
    key: str
    label_zh: str
    label_en: str | None = None
    weight: float | None = None  # None on every domain: equal weights
    weight_basis: str | None = None
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
    weight_basis: str = EQUAL_WEIGHTS_BASIS  # the basis of equal weights
    # 填报: due this many days after the quarter ends; a report due and not filed (应报未报) scores
    # unfiled_report_score and is flagged — it is not renormalised away
    report_deadline_days: int = 15
    unfiled_report_score: float = 0.0


class Units(_Model):
    """Scorecards of the units behind the records (12345 承办单位, 办件 办理部门, 好差评 评价部门)."""

    indicators: tuple[str, ...] = Field(strict=False)  # indicator keys (transaction sources)
    min_sample: int = 10


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
    units: Units | None = None
    domains: tuple[Domain, ...] = Field(min_length=1, strict=False)

    def indicators(self) -> list[tuple[Domain, Indicator]]:
        return [(d, i) for d in self.domains for i in d.indicators]

    def domain_weight(self, dom: Domain) -> float:
        """The domain's weight: as written, or an equal share when no domain gives one."""
        if dom.weight is not None:
            return dom.weight
        return 1.0 / len(self.domains)

    def indicator_weight(self, dom: Domain, ind: Indicator) -> float:
        """The indicator's weight in its domain: as written, or an equal share."""
        if ind.weight is not None:
            return ind.weight
        return 1.0 / len(dom.indicators)

    def weight_basis(self, dom: Domain, ind: Indicator | None = None) -> str:
        """Why the weight is what it is: the entry's own basis, or the equal weights' basis."""
        own = dom.weight_basis if ind is None else ind.weight_basis
        return own or self.defaults.weight_basis

    def setting_number(self, value: float | str) -> float:
        """A number written as such or as "$setting"."""
        if isinstance(value, str) and value.startswith("$"):
            return float(self.settings[value[1:]])
        return float(value)

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
