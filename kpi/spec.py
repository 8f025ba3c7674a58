"""metrics.yaml as frozen, strict models — the only shape of the spec the rest of bizenv sees.

`load_spec(path)` parses the YAML keeping every node's line (yaml.compose), builds the models
and runs the semantic checks of kpi.validate_spec, so a bad file fails with every problem at once
(file, line, entry, fix) in one SpecError. Nothing downstream reads the raw dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kpi import settings
from kpi.errors import SpecError

Source = Literal["approvals", "hotline", "ratings", "reports"]
Direction = Literal["higher_is_better", "lower_is_better"]
Scalar = bool | int | float | str


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
    warn: float | None = None          # 预警值: worse than this → red
    advanced: float | None = None      # 先进值: at or better than this → green
    min_sample: int | None = None      # default: defaults.min_sample (1 for reports)
    neutral_band: float | None = None  # in the indicator's unit; default derived from defaults.neutral_band
    format: str = ".1f"

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

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceMap:
    """Where each entry of the YAML file sits, for messages: path tuple → 1-based line."""

    file: str
    lines: dict[Path_, int] = field(default_factory=dict)
    raw: object = None

    def line(self, path: Path_) -> int:
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def entry(self, path: Path_) -> str:
        """Human name of the entry a path points into: 领域 D01（starting_business）/ 指标 D01.02（key）."""
        raw = self.raw
        try:
            if len(path) >= 4 and path[0] == "domains" and path[2] == "indicators":
                ind = raw["domains"][path[1]]["indicators"][path[3]]
                return f"指标 {ind.get('id', '?')}（{ind.get('key', '?')}）"
            if len(path) >= 2 and path[0] == "domains":
                dom = raw["domains"][path[1]]
                return f"领域 {dom.get('id', '?')}（{dom.get('key', '?')}）"
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
        return "顶层 " + ".".join(str(p) for p in path[:1]) if path else "文件顶层"

    def where(self, path: Path_) -> str:
        """'metrics.yaml 第 12 行，指标 D01.02（sb_on_time_rate）'."""
        return f"{self.file} 第 {self.line(path)} 行，{self.entry(path)}"


def _to_python(node: yaml.Node, path: Path_, lines: dict[Path_, int], dupes: list[tuple[Path_, int]]):
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            if key in out:  # YAML keeps the last one silently; a spec must not
                dupes.append(((*path, key), key_node.start_mark.line + 1))
                continue
            out[key] = _to_python(value_node, (*path, key), lines, dupes)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(child, (*path, i), lines, dupes) for i, child in enumerate(node.value)]
    # Scalars: let the safe constructor resolve the tag (int, float, bool, null, str).
    return _scalar(node)


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _scalar(node: yaml.ScalarNode):
    # The safe constructor resolves the tag the composer gave it (int, float, bool, null, str);
    # plain strings, most of a spec, are taken as they are (the constructor's own result).
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    return _CONSTRUCTOR.construct_object(node, deep=True)


def parse_yaml(text: str, file: str) -> SourceMap:
    """YAML text → SourceMap holding the plain data and each path's line. Raises SpecError on bad YAML."""
    try:
        # The C loader when PyYAML has it (10× faster); both keep the line marks we need.
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise SpecError([(f"{file} 第 {line} 行：YAML 语法错误（{getattr(err, 'problem', err)}）。"
                          "改法：检查该行的缩进、冒号后的空格和引号是否成对。")], file) from None
    lines: dict[Path_, int] = {}
    dupes: list[tuple[Path_, int]] = []
    raw = _to_python(node, (), lines, dupes) if node is not None else None
    src = SourceMap(file=file, lines=lines, raw=raw)
    if dupes:
        raise SpecError([f"{file} 第 {line} 行，{src.entry(path)}：字段 {path[-1]} 重复出现（第 {src.line(path)} 行已写过）。"
                         "改法：删除其中一个。" for path, line in dupes], file)
    return src


_MSG_BY_TYPE = {
    "missing": "缺失",
    "extra_forbidden": "不是规格里的字段",
    "literal_error": "取值不在允许范围内",
    "float_type": "应为数字",
    "int_type": "应为整数",
    "string_type": "应为文字",
    "bool_type": "应为 true 或 false",
    "too_short": "不能为空",
    "tuple_type": "应为列表",
    "model_type": "应为映射（键: 值）",
    "dict_type": "应为映射（键: 值）",
}

_FIX_BY_TYPE = {
    "missing": "补上这个字段",
    "extra_forbidden": "删除这个字段，或检查拼写（允许的字段见 docs/metrics.md）",
    "literal_error": "改成允许的取值之一",
    "float_type": "写成不带引号的数字",
    "int_type": "写成不带引号的整数",
    "string_type": "写成文字（必要时加引号）",
    "bool_type": "写成 true 或 false",
    "too_short": "至少写一项",
}


def _structure_problems(src: SourceMap, err: ValidationError) -> list[str]:
    problems: list[str] = []
    seen: set[tuple] = set()
    for e in err.errors():
        # Union branches add type names to loc ('str', 'tuple[...]'): keep only the steps that
        # exist in the file, so the line and the field name are the user's own.
        path = tuple(step for step in e["loc"] if not _is_type_tag(step))
        if path in seen:  # one message per field, not one per union branch
            continue
        seen.add(path)
        name = ".".join(str(p) for p in path if not isinstance(p, int)) or "（顶层）"
        fix = _FIX_BY_TYPE.get(e["type"], "按 docs/metrics.md 的格式改写")
        if path and path[-1] == "value":
            fix = "写成文字、数字或 true/false；op 为 in / not_in 时写成它们的列表，例如 [投诉, 举报]"
        msg = _MSG_BY_TYPE.get(e["type"], e["msg"])
        expected = e.get("ctx", {}).get("expected")
        detail = f"（允许：{expected}）" if expected else ""
        problems.append(f"{src.where(path)}：字段 {name} {msg}{detail}。改法：{fix}。")
    return problems


def _is_type_tag(step) -> bool:
    return isinstance(step, str) and (step in {"bool", "int", "float", "str", "none"} or "[" in step)


def build_models(src: SourceMap) -> MetricsSpec:
    if not isinstance(src.raw, dict):
        raise SpecError([(f"{src.file} 第 1 行：文件内容应是一个映射（version、defaults、domains 等字段）。"
                          "改法：参照仓库根目录的 metrics.yaml 改写。")], src.file)
    try:
        return MetricsSpec.model_validate(src.raw)
    except ValidationError as err:
        raise SpecError(_structure_problems(src, err), src.file) from None


def load_spec(path: Path | str | None = None, *, check_sql: bool = True,
              catalog_dir: Path | str | None = None) -> MetricsSpec:
    """Read, build and validate metrics.yaml (default: settings.metrics_path()). Raises SpecError."""
    from kpi.validate_spec import (
        validate,  # late: validate_spec compiles SQL, which needs the models
    )

    path = Path(path) if path else settings.metrics_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([f"找不到指标规格文件 {path}。改法：检查 --metrics 参数或 BIZENV_METRICS 环境变量。"],
                        str(path)) from None
    src = parse_yaml(text, path.name)
    spec = build_models(src)
    problems = validate(spec, src, check_sql=check_sql, catalog_dir=catalog_dir)
    if problems:
        raise SpecError(problems, path.name)
    return spec
