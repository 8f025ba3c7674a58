"""An indicator's definition as Chinese sentences: its records (source + filters), what is counted
or measured (agg + expr) and, for ratios, numerator ÷ denominator — what the 明细 banner and the
指标定义 table show instead of field names and SQL.

Column names come from kpi.schema.COLUMN_LABELS, domain keys from the spec's own domains.
Expressions are read with the compiler's tokeniser and translated by a small recursive-descent
reader (columns, 'text', numbers, $settings, comparisons, IS [NOT] NULL, AND / OR / NOT, + − × ÷,
CASE WHEN); a few whole expressions read better as a phrase written out (KNOWN_PHRASES). Anything
else (functions such as coalesce) reads as 按自定义表达式计算 rather than as SQL.
"""

from __future__ import annotations

from kpi import schema
from kpi.spec.models import Aggregate, Filter, Indicator, MetricsSpec

# What the records of each source are called: "办件" → "办件数".
RECORD_NOUN = {"approvals": "办件", "hotline": "工单", "ratings": "评价"}

# $settings of metrics.yaml by their meaning (a setting not listed reads as 本地设置).
SETTING_LABELS = {
    "good_rating_includes_basic": "好评含基本满意",
    "hotline_satisfaction_includes_basic": "满意含基本满意",
    "zero_visit_max": "零跑动的跑动次数上限",
    "hotline_sign_limit_hours": "签收时限（小时）",
    "hotline_sign_limit_hours_urgent": "紧急工单签收时限（小时）",
    "hotline_rates_exclude_consultation": "解决率、满意率不计咨询",
    "hotline_min_followup_rate": "回访率下限",
    "rectify_limit_days": "差评整改时限（工作日）",
}

# A true/false column as a condition: (true, false).
BOOL_PHRASES = {
    "on_time": ("按时办结", "未按时办结"),
    "resolved": ("已解决", "未解决"),
    "is_bad": ("差评", "不是差评"),
    "rectified": ("已整改", "未整改"),
    "is_enterprise": ("涉企", "不涉企"),
    "is_repeat": ("为重复诉求", "不是重复诉求"),
    "calendar_known": ("节假日日历已知", "节假日日历未知"),
    "followed_up": ("已回访", "未回访"),
    "appeal_voided": ("申诉复核认定无效", "申诉复核未认定无效"),
    "is_rated": ("有首次好差评", "没有好差评"),
}

# `column IS NOT NULL` / `IS NULL` said the way the office says it.
KNOWN_VALUE_PHRASES = {
    "on_time": ("应办结（已办结或已过办结期限）", "未到办结期限"),
    "resolved": ("回访了是否解决", "未回访是否解决"),
    "satisfaction": ("作了满意度评价", "未作满意度评价"),
    "visits": ("填报了跑动次数", "未填报跑动次数"),
    "legal_limit_days": ("有法定时限", "无法定时限"),
    "promised_limit_days": ("有承诺时限", "无承诺时限"),
    "completed_at": ("已办结", "未办结"),
    "closed_at": ("已办结", "未办结"),
    "workdays_used": ("算出了办理用时", "算不出办理用时"),
    "response_hours": ("已签收", "未签收"),
    "due_at": ("有办结期限", "没有办结期限"),
    "rectified_at": ("有整改时间", "没有整改时间"),
    "is_repeat": ("标记了是否重复", "未标记是否重复"),
    "workdays_used * 100.0 / promised_limit_days": ("算出了办理用时", "算不出办理用时"),
}

# Whole expressions whose word-by-word reading would be clumsy (whitespace and case ignored):
# expression → (phrase, 'bool' for a condition | 'value' for a number).
KNOWN_PHRASES = {
    "level <= case when $good_rating_includes_basic then 3 else 2 end": (
        "评价为非常满意或满意（设置“好评含基本满意”为是时也含基本满意）",
        "bool",
    ),
    "satisfaction = '满意' or ($hotline_satisfaction_includes_basic and satisfaction = '基本满意')": (
        "回访满意度为满意（设置“满意含基本满意”为是时也含基本满意）",
        "bool",
    ),
    "legal_limit_days - promised_limit_days": ("承诺时限比法定时限减少的工作日数", "value"),
    "is_bad and rectified": ("差评已整改", "bool"),
    "satisfaction in ('非常满意', '满意') or ($hotline_satisfaction_includes_basic and satisfaction = '基本满意')": (
        "回访满意度为非常满意或满意（设置“满意含基本满意”为是时也含基本满意）",
        "bool",
    ),
    "response_hours <= case when urgency = '紧急' then $hotline_sign_limit_hours_urgent else $hotline_sign_limit_hours end": (
        "在签收时限内签收（紧急工单按设置“紧急工单签收时限（小时）”，其余按设置“签收时限（小时）”）",
        "bool",
    ),
    "response_hours is not null or open_hours > case when urgency = '紧急' then $hotline_sign_limit_hours_urgent else $hotline_sign_limit_hours end": (
        "已签收或超过签收时限仍未签收",
        "bool",
    ),
    "on_time is not null and closed_at is not null": ("应办结且已办结", "bool"),
    "is_bad and rectified and rectify_workdays <= $rectify_limit_days": (
        "差评在设置“差评整改时限（工作日）”内整改完成",
        "bool",
    ),
    "is_bad and followed_up": ("差评已回访", "bool"),
    "workdays_used * 100.0 / promised_limit_days": ("实际办理用时占承诺时限的百分比", "value"),
}

_OP_WORDS = {
    "=": "为",
    "!=": "不为",
    "<>": "不为",
    ">": "大于",
    ">=": "不少于",
    "<": "小于",
    "<=": "不超过",
}
_ARITH_WORDS = {"+": "加", "-": "减", "*": "乘以", "/": "除以"}
_AGG_WORDS = {"avg": "平均值", "sum": "合计", "min": "最小值", "max": "最大值"}
CUSTOM = "按自定义表达式计算"


class _Unreadable(ValueError):
    """The expression uses something the reader does not translate."""


def column_label(source: str, column: str) -> str:
    labels = schema.COLUMN_LABELS.get(source, {})
    return labels.get(column) or schema.VIRTUAL_COLUMNS.get(source, {}).get(column, column)


def _domain_labels(spec: MetricsSpec | None) -> dict[str, str]:
    return {d.key: d.label_zh for d in spec.domains} if spec is not None else {}


def value_text(column: str, value, spec: MetricsSpec | None = None) -> str:
    """A filter value as a reader knows it: domain keys by their Chinese name, true/false as 是/否."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if column == "domain_key":
        return _domain_labels(spec).get(str(value), str(value))
    return str(value)


def filter_text(f: Filter, source: str, spec: MetricsSpec | None = None) -> str:
    """One filter as a phrase: 办件状态为“已办结”, 诉求类型为“投诉”或“举报”, 有法定时限, 涉企;
    a filter with `when` says the setting it depends on: 诉求类型不为“咨询”（设置“…”为是时）."""
    text = _filter_text(f, source, spec)
    if f.when:
        text += f"（设置“{SETTING_LABELS.get(f.when, '本地设置')}”为是时）"
    return text


def _filter_text(f: Filter, source: str, spec: MetricsSpec | None = None) -> str:
    if f.column == "rating_seq" and f.op == "=" and f.value == 1:
        return "首次评价（评价次数为 1）"
    label = column_label(source, f.column)
    if f.op in ("is_null", "not_null"):
        known = KNOWN_VALUE_PHRASES.get(f.column)
        if known:
            return known[0] if f.op == "not_null" else known[1]
        return f"{label}{'已填写' if f.op == 'not_null' else '为空'}"
    if f.column in BOOL_PHRASES and isinstance(f.value, bool) and f.op in ("=", "!="):
        yes, no = BOOL_PHRASES[f.column]
        return yes if f.value == (f.op == "=") else no
    values = f.value if isinstance(f.value, tuple) else (f.value,)
    quoted = [f"“{value_text(f.column, v, spec)}”" for v in values]
    if f.op in ("in", "not_in"):
        return f"{label}{'为' if f.op == 'in' else '不为'}{'或'.join(quoted)}"
    return f"{label}{_OP_WORDS.get(f.op, f.op)}{quoted[0]}"


def filters_text(filters, source: str, spec: MetricsSpec | None = None) -> str:
    """All filters, joined: '领域为“开办企业”，办件状态为“已办结”' ('不限' when there are none)."""
    return "，".join(filter_text(f, source, spec) for f in filters) or "不限"


def scope_text(ind: Indicator, spec: MetricsSpec | None = None) -> str:
    """The records an indicator looks at: '领域为“开办企业”、办件状态为“已办结”的办件'."""
    noun = RECORD_NOUN.get(ind.source, schema.SOURCE_LABELS.get(ind.source, ""))
    if not ind.filters:
        return f"全部{noun}"
    return "、".join(filter_text(f, ind.source, spec) for f in ind.filters) + f"的{noun}"


# ── expressions ──────────────────────────────────────────────────────────────────────────────


def _tokens(expr: str) -> list[tuple[str, str]]:
    from kpi.engine.compile import _TOKEN  # the compiler's own tokeniser: one reading of an expr

    out, pos, expr = [], 0, expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise _Unreadable(expr)
        pos = m.end()
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
    return out


class _Reader:
    """Recursive descent over the tokens; each rule returns (text, kind) — kind 'bool' or 'value'."""

    def __init__(self, expr: str, source: str, spec: MetricsSpec | None):
        self.toks = _tokens(expr)
        self.i = 0
        self.source = source
        self.settings = dict(spec.settings) if spec is not None else {}

    def peek(self, word: str | None = None) -> bool:
        if self.i >= len(self.toks):
            return False
        kind, tok = self.toks[self.i]
        return word is None or tok.lower() == word

    def take(self, word: str | None = None) -> str:
        if not self.peek(word):
            raise _Unreadable(word or "end")
        self.i += 1
        return self.toks[self.i - 1][1]

    def read(self) -> tuple[str, str]:
        out = self.or_()
        if self.i != len(self.toks):
            raise _Unreadable("trailing")
        return out

    def or_(self):
        text, kind = self.and_()
        while self.peek("or"):
            self.take()
            right, _ = self.and_()
            text, kind = f"{self.cond(text, kind)}或{right}", "bool"
        return text, kind

    def and_(self):
        text, kind = self.not_()
        while self.peek("and"):
            self.take()
            right, rkind = self.not_()
            text, kind = f"{self.cond(text, kind)}且{self.cond(right, rkind)}", "bool"
        return text, kind

    def not_(self):
        if self.peek("not"):
            self.take()
            text, kind = self.not_()
            return f"不满足“{self.cond(text, kind)}”", "bool"
        return self.cmp()

    def cmp(self):
        left, lcol = self.arith()
        if self.peek("is"):
            self.take()
            negated = bool(self.peek("not") and self.take())
            self.take("null")
            known = KNOWN_VALUE_PHRASES.get(lcol or "")
            if known:
                return (known[1] if not negated else known[0]), "bool"
            return f"{left}{'已填写' if negated else '为空'}", "bool"
        negated = False
        if (
            self.peek("not")
            and self.i + 1 < len(self.toks)
            and self.toks[self.i + 1][1].lower() == "in"
        ):
            self.take()
            negated = True
        if self.peek("in"):  # channel IN ('全程网办', '移动端') → 办理渠道为“全程网办”或“移动端”
            self.take()
            self.take("(")
            values = [self.arith()[0]]
            while self.peek(","):
                self.take()
                values.append(self.arith()[0])
            self.take(")")
            return f"{left}{'不为' if negated else '为'}{'或'.join(values)}", "bool"
        if self.i < len(self.toks) and self.toks[self.i][1] in _OP_WORDS:
            op = self.take()
            right, _ = self.arith()
            return f"{left}{_OP_WORDS[op]}{right}", "bool"
        if lcol in BOOL_PHRASES:  # a true/false column on its own is a condition
            return BOOL_PHRASES[lcol][0], "bool"
        return left, "value"

    def arith(self) -> tuple[str, str | None]:
        text, col = self.primary()
        while self.i < len(self.toks) and self.toks[self.i][1] in _ARITH_WORDS:
            op = self.take()
            right, _ = self.primary()
            text, col = f"{text}{_ARITH_WORDS[op]}{right}", None
        return text, col

    def primary(self) -> tuple[str, str | None]:
        """(text, the column when the primary is a bare column)."""
        kind, tok = self.toks[self.i] if self.i < len(self.toks) else ("end", "")
        low = tok.lower()
        if kind == "ident" and (
            low in schema.COLUMN_LABELS.get(self.source, {})
            or low in schema.VIRTUAL_COLUMNS.get(self.source, {})
        ):
            self.take()
            return column_label(self.source, low), low
        if kind == "str":
            self.take()
            return f"“{tok[1:-1].replace(chr(39) * 2, chr(39))}”", None
        if kind == "num":
            self.take()
            return tok, None
        if kind == "param":
            self.take()
            name = tok[1:]
            label = SETTING_LABELS.get(name, "本地设置")
            current = self.settings.get(name)
            if isinstance(current, bool) or current is None:
                return f"设置“{label}”", None
            return f"设置“{label}”（当前为 {current}）", None
        if low in ("true", "false"):
            self.take()
            return ("是" if low == "true" else "否"), None
        if tok == "(":
            self.take()
            text, kind2 = self.or_()
            self.take(")")
            return f"（{text}）", None
        if low == "case":
            return self.case(), None
        raise _Unreadable(tok)

    def case(self) -> str:
        self.take("case")
        parts = []
        while self.peek("when"):
            self.take()
            cond, ckind = self.or_()
            self.take("then")
            value, _ = self.or_()
            parts.append(f"{self.cond(cond, ckind)}时为{value}")
        if not parts:
            raise _Unreadable("case")
        if self.peek("else"):
            self.take()
            value, _ = self.or_()
            parts.append(f"否则为{value}")
        self.take("end")
        return "（" + "，".join(parts) + "）"

    def cond(self, text: str, kind: str) -> str:
        return _as_condition(text, kind, self.source)


def _as_condition(text: str, kind: str, source: str) -> str:
    """A value used as a condition: a true/false column reads as its phrase, a setting as 为是."""
    if kind == "bool":
        return text
    for col, (yes, _) in BOOL_PHRASES.items():
        if text == column_label(source, col):
            return yes
    return f"{text}为是"


def _normal(expr: str) -> str:
    return " ".join(expr.lower().split())


def _read(expr: str, source: str, spec: MetricsSpec | None) -> tuple[str, str]:
    known = KNOWN_PHRASES.get(_normal(expr))
    if known:
        return known
    try:
        return _Reader(expr, source, spec).read()
    except (_Unreadable, IndexError):
        return CUSTOM, "value"


def condition_text(expr: str, source: str, spec: MetricsSpec | None = None) -> str:
    """A true/false expression as a phrase: 'on_time' → 按时办结, 'visits IS NOT NULL' → 填报了跑动次数."""
    text, kind = _read(expr, source, spec)
    if text == CUSTOM:
        return "满足自定义条件"
    return _as_condition(text, kind, source)


def value_text_of(expr: str, source: str, spec: MetricsSpec | None = None) -> str:
    """A numeric expression as a phrase: 'workdays_used' → 办理用时（工作日）."""
    return _read(expr, source, spec)[0]


def aggregate_text(a: Aggregate, source: str, spec: MetricsSpec | None = None) -> str:
    """What one aggregate counts or measures: 按时办结的办件数, 办件数, 办理用时（工作日）的平均值."""
    noun = RECORD_NOUN.get(source, "记录")
    if a.agg == "count_if":
        return f"{condition_text(a.expr, source, spec)}的{noun}数"
    if a.agg == "count":
        cols = schema.NATURAL_KEYS.get(source, ())
        if _normal(a.expr) in cols:  # count of the key: every record
            return f"{noun}数"
        return f"{value_text_of(a.expr, source, spec)}已填写的{noun}数"
    return f"{value_text_of(a.expr, source, spec)}的{_AGG_WORDS.get(a.agg, a.agg)}"


def measure_parts(ind: Indicator, spec: MetricsSpec | None = None) -> tuple[str, str]:
    """(numerator or measure, denominator or '') as phrases; reports: (部门填报值, '')."""
    if ind.source == "reports":
        return "部门填报值", ""
    if ind.ratio is not None:
        return (
            aggregate_text(ind.ratio.numerator, ind.source, spec),
            aggregate_text(ind.ratio.denominator, ind.source, spec),
        )
    if ind.measure is not None:
        return aggregate_text(ind.measure, ind.source, spec), ""
    return "", ""


def _times(ind: Indicator) -> str:
    return {100.0: " × 100%", 1000.0: " × 1000"}.get(ind.scale, "")


def indicator_sentence(ind: Indicator, spec: MetricsSpec | None = None) -> str:
    """The whole definition in one sentence, e.g. '在领域为“开办企业”、办件状态为“已办结”的办件中，
    按时办结的办件数 ÷ 可判定是否按时的办件数 × 100%。' — with how records are put in quarters
    when it is not their own time (按办结期限), how items count (每个事项一次), a coverage floor,
    and where the city's value comes from when that is not the districts' records."""
    where = "（市级指标：只算全市，不分区县）" if ind.applies_to == "city" else ""
    if ind.source == "reports":
        if ind.reported is not None:
            city = (
                ""
                if ind.applies_to == "city"
                else "全市值为各区县分子合计 ÷ 分母合计（全市另行填报时取全市的）。"
            )
            return (
                f"取部门填报的分子（{ind.reported.numerator}）÷ 分母（{ind.reported.denominator}）"
                f"{_times(ind)}{where}。{city}"
            )
        who = (
            "全市填报的数值"
            if ind.applies_to == "city"
            else "各区县部门填报的数值，全市取全市填报的数值"
        )
        return f"取{who}（{schema.SOURCE_LABELS['reports']}），单位：{ind.unit}{where}。"
    num, den = measure_parts(ind, spec)
    timing = ""
    if ind.period_by == "due":
        timing = (
            "按整改期限所在季度统计（到期未整改的算未按期）："
            if ind.source == "ratings"
            else "按办结期限所在季度统计（应办结；到期仍未办结的算超期）："
        )
    each = "每个事项只计一次，" if ind.over == "items" else ""
    scope = f"{timing}在{scope_text(ind, spec)}中，{each}"
    tail = ""
    if ind.coverage is not None:
        floor = ind.coverage.min
        if isinstance(floor, str) and floor.startswith("$"):
            floor_text = f"设置“{SETTING_LABELS.get(floor[1:], '本地设置')}”"
        else:
            floor_text = f"{floor}%"
        tail = f"{ind.coverage.label}低于{floor_text}时不评分"
    tail = "；".join(x for x in (tail, where.strip("（）")) if x)
    tail = f"（{tail}）" if tail else ""
    if den:
        return f"{scope}{num} ÷ {den}{_times(ind)}{tail}。"
    return f"{scope}取{num}{tail}。"


def counted_text(ind: Indicator, spec: MetricsSpec | None = None) -> str | None:
    """What puts a record among those behind the value (the denominator of a ratio, the records
    with a value for a measure), or None when every record in scope counts."""
    base = ind.ratio.denominator if ind.ratio is not None else ind.measure
    if base is None:
        return None
    if base.agg == "count_if":
        return condition_text(base.expr, ind.source, spec)
    if _normal(base.expr) in schema.NATURAL_KEYS.get(ind.source, ()):
        return None
    known = KNOWN_VALUE_PHRASES.get(_normal(base.expr))
    return known[0] if known else f"{value_text_of(base.expr, ind.source, spec)}已填写"
