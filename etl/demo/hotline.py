"""12345工单明细: hotline tickets, one GBK CSV per quarter with a title row and a 合计 row.

Calls come 7×24 (fewer at weekends and at night); the handling unit's duty desk signs (签收) a
ticket within hours — 紧急 ones within the hour — with a tail of late signings in weaker districts,
and closes it a number of working days later against a limit that depends on the 诉求类型 (a few
get an approved 延期). Better districts close on time, solve the problem and leave callers
satisfied more often (five levels, 非常满意 … 非常不满意, asked on the 回访 of a closed ticket when
the caller is reached). A tail of tickets is stuck: still open at the cut-off long after its due
day. Repeat callers keep their number; some 诉求内容 mention a phone or ID number (the loader must
mask them).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.demo import context as cx
from etl.demo import dirty, text
from etl.demo.context import Context

COLUMNS = [
    "工单编号",
    "来电时间",
    "受理渠道",
    "诉求人类型",
    "紧急程度",
    "诉求类型",
    "诉求分类",
    "所属区县",
    "承办单位",
    "签收时间",
    "办结时间",
    "办理时限",
    "延期天数",
    "是否回访",
    "是否解决",
    "满意度",
    "是否重复",
    "来电号码",
    "诉求人",
    "诉求内容",
]
PER_QUARTER = 5000
GROWTH = 1.015
_WEEKDAY_WEIGHT = np.array([1.15, 1.05, 1.0, 1.0, 0.95, 0.6, 0.55])
_CATEGORIES = np.array(["咨询", "求助", "投诉", "举报", "建议"], dtype=object)
_CATEGORY_P = [0.36, 0.2, 0.3, 0.05, 0.09]
_LIMIT_DAYS = np.array([3, 5, 10, 10, 15])  # 办理时限 (working days) by 诉求类型
_CHANNELS = np.array(["电话", "网站", "微信", "APP"], dtype=object)
_CHANNEL_P = [0.62, 0.1, 0.18, 0.1]
# 承办单位 by topic (prefixed with the district); unknown topics go to the 综合行政执法局
_UNITS = {
    "企业开办咨询": "市场监管局",
    "拖欠工资": "人力社保局",
    "劳动合同纠纷": "人力社保局",
    "社保缴纳": "人力社保局",
    "工程建设审批": "住房城乡建设局",
    "政府采购投诉": "财政局",
    "招投标投诉": "公共资源交易中心",
    "停电报修": "供电公司",
    "供电服务": "供电公司",
    "供水问题": "水务集团",
    "燃气问题": "燃气公司",
    "不动产登记": "不动产登记中心",
    "融资贷款": "金融服务中心",
    "知识产权侵权": "市场监管局",
    "通关物流": "商务局",
    "税费办理": "税务局",
    "合同纠纷": "司法局",
    "市场秩序": "市场监管局",
    "食品安全": "市场监管局",
    "消费维权": "市场监管局",
    "政务服务态度": "行政服务中心",
    "办事效率": "行政服务中心",
    "惠企政策兑现": "经信局",
    "城市管理": "综合行政执法局",
    "交通出行": "交通运输局",
    "环境保护": "生态环境分局",
}


def file_name(q) -> str:
    return f"12345工单明细_{q.label}.csv"


def title(q) -> str:
    return f"{q.label_zh}12345工单明细"


def day_weights(ctx: Context) -> np.ndarray:
    # holidays are quieter than ordinary weekends
    hol = (~ctx.cal.is_work) & (ctx.cal.weekday < 5)
    return np.where(hol, 0.5, _WEEKDAY_WEIGHT[ctx.cal.weekday])


def quarter_count(ctx: Context, qi: int) -> int:
    lo, hi = ctx.day_range(ctx.quarters[qi])
    w = day_weights(ctx)[lo:hi].sum() / _WEEKDAY_WEIGHT.mean()
    return int(np.rint(PER_QUARTER * ctx.volume * GROWTH**qi * w / 91.0))


def chunks(ctx: Context, qi: int) -> Iterator[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    q = ctx.quarters[qi]
    lo, hi = ctx.day_range(q)
    days = cx.timeline.sample_days(
        ctx.rng("hotline", qi), quarter_count(ctx, qi), day_weights(ctx), lo, hi
    )
    for c, start in enumerate(range(0, len(days), cx.CHUNK_ROWS)):
        rng = ctx.rng("hotline", qi, c + 1)
        cols = _rows(ctx, qi, days[start : start + cx.CHUNK_ROWS], start, rng)
        yield cols, dirty.inject(cols, "工单编号", _defects(cols, ctx.cutoff), rng, rotate=qi + c)


def _rows(ctx: Context, qi: int, day: np.ndarray, seq0: int, rng: np.random.Generator) -> dict:
    cal, topics = ctx.cal, ctx.topics
    n = len(day)
    d = rng.choice(len(ctx.districts), n, p=ctx.shares())
    p = ctx.perf[d, qi]
    recv_s = cx.timeline.hotline_seconds(rng, n)
    order = np.lexsort((recv_s, day))
    day, recv_s = day[order], recv_s[order]
    received = cal.to_datetime(day, recv_s)

    t = rng.integers(0, len(topics["topic"]), n)
    topic = topics["topic"][t]
    enterprise_topic = topics["is_enterprise_topic"][t] == "true"
    caller_type = np.where(rng.random(n) < np.where(enterprise_topic, 0.7, 0.15), "企业", "个人")
    cat = rng.choice(len(_CATEGORIES), n, p=_CATEGORY_P)
    limit = _LIMIT_DAYS[cat]
    urgent_topic = np.isin(topic, ["停电报修", "供水问题", "燃气问题"])
    urgent = rng.random(n) < np.where(urgent_topic, 0.35, 0.04)

    # the unit's duty desk signs (签收) around the clock, within hours (紧急 within the hour;
    # slower in weaker districts), with a tail of tickets left a day or more before signing
    mean = np.where(urgent, 900 + 1200 * (1 - p), 3600 * (2.5 - 2.0 * p))
    sign_gap = np.maximum(120, rng.exponential(mean)).astype(np.int64)
    slow = rng.random(n) < 0.005 + 0.05 * (1 - p)
    sign_gap = np.where(slow, rng.integers(26 * 3600, 72 * 3600, n), sign_gap)
    signed = received + sign_gap.astype("timedelta64[s]")
    festival = cal.near_festival(day)
    k = cx.workdays_taken(rng, limit, p, 0.85 + 0.13 * p - 0.06 * festival, festival)
    extended = (cat >= 2) & (rng.random(n) < 0.03)  # 投诉 / 举报 / 建议 that needed longer
    extension = np.where(extended, 5, 0)
    k = k + extension
    close_day = cal.add_workdays(day, k)
    close_s = cx.timeline.office_seconds(rng, n)
    closed = cal.to_datetime(close_day, close_s)
    # closing the same day: a little after signing
    closed = np.where(
        closed <= signed, signed + rng.integers(1800, 4 * 3600, n).astype("timedelta64[s]"), closed
    )
    # stuck: still open at the cut-off, however long ago it fell due (weaker districts more)
    stuck = rng.random(n) < 0.005 + 0.035 * (1 - p)
    is_open = (closed >= ctx.cutoff) | stuck
    closed = np.where(is_open, np.datetime64("NaT"), closed)
    # a call on the last evening before the cut-off is not signed yet
    signed = np.where(signed >= ctx.cutoff, np.datetime64("NaT"), signed)

    # 回访 after closing: the caller is reached (or not), then asked whether the problem was
    # solved and how satisfied they are
    solved = rng.random(n) < 0.75 + 0.20 * p
    reached = (rng.random(n) < 0.93 + 0.06 * p) & ~is_open
    asked = reached & (rng.random(n) >= 0.02)
    resolved = np.where(asked, np.where(solved, "是", "否"), None)
    rated = reached & (rng.random(n) < 0.85)
    unhappy_p = np.where(solved, 0.03 + 0.05 * (1 - p), 0.55)
    r = rng.random(n)
    r2 = rng.random(n)
    sat = np.where(
        r < unhappy_p,
        np.where(r2 < 0.3, "非常不满意", "不满意"),
        np.where(
            r < unhappy_p + (1 - unhappy_p) * 0.2,
            "基本满意",
            np.where(r2 < 0.55 + 0.2 * p, "非常满意", "满意"),
        ),
    )
    satisfaction = np.where(rated, sat, None)
    followed = np.where(is_open, None, np.where(reached, "是", "否"))

    # most callers ring once; one call in six comes from a small set of frequent callers, the
    # same people quarter after quarter (caller index → the same phone number)
    frequent = rng.random(n) < 0.16
    pool = max(int(n * 0.04), 1)
    caller = np.where(
        frequent, (pool * rng.random(n) ** 1.5).astype(np.int64), rng.integers(10**6, 10**8, n)
    )
    phones = text.phone_numbers(caller, ctx.seed)
    first_call = ~_seen_before(caller)
    r2 = rng.random(n)
    repeat = np.where(r2 < 0.03, None, np.where(~first_call & (r2 < 0.8), "是", "否"))
    content, _, _ = text.contents(rng, topic, phones, caller_type == "企业")

    names = ctx.district_names()
    units = np.array([_UNITS.get(x, "综合行政执法局") for x in topics["topic"]], dtype=object)[t]
    date8 = cx.fmt(received, "%Y%m%d")
    return {
        "工单编号": cx.join("GD", date8, cx.ids("", seq0 + 1, n, 6)),
        "来电时间": cx.fmt_slash(received),
        "受理渠道": _CHANNELS[rng.choice(len(_CHANNELS), n, p=_CHANNEL_P)],
        "诉求人类型": caller_type.astype(object),
        "紧急程度": np.where(urgent, "紧急", "一般").astype(object),
        "诉求类型": _CATEGORIES[cat],
        "诉求分类": topic,
        "所属区县": ctx.district_labels(rng, d),
        "承办单位": cx.join(names[d], units),
        "签收时间": cx.fmt_slash(signed),
        "办结时间": cx.fmt_slash(closed),
        "办理时限": cx.int_str(limit),
        "延期天数": np.where(extended, cx.int_str(extension), None).astype(object),
        "是否回访": followed.astype(object),
        "是否解决": resolved.astype(object),
        "满意度": satisfaction.astype(object),
        "是否重复": repeat.astype(object),
        "来电号码": phones.to_numpy(zero_copy_only=False),
        "诉求人": text.names(rng, n).to_numpy(zero_copy_only=False),
        "诉求内容": content.to_numpy(zero_copy_only=False),
        "_closed": ~is_open,
    }


def _seen_before(caller: np.ndarray) -> np.ndarray:
    """True where the caller already called earlier in this chunk (rows are in time order)."""
    first = np.zeros(len(caller), dtype=bool)
    _, idx = np.unique(caller, return_index=True)
    first[idx] = True
    return ~first


def _closed_before_call(cols, idx, rng) -> None:
    recv = _parse_slash(cols["来电时间"][idx])
    back = rng.integers(3600, 3 * 86400, len(idx)).astype("timedelta64[s]")
    cols["办结时间"][idx] = cx.fmt_slash(recv - back)


def _future_close(cutoff: np.datetime64):
    def apply(cols, idx, rng) -> None:
        cols["办结时间"][idx] = cx.fmt_slash(dirty.future_times(rng, len(idx), cutoff))

    return apply


def _parse_slash(values: np.ndarray) -> np.ndarray:
    return (
        pc.strptime(pa.array(values, pa.string()), format="%Y/%m/%d %H:%M", unit="s")
        .to_numpy(zero_copy_only=False)
        .astype("datetime64[s]")
    )


def _defects(cols, cutoff: np.datetime64) -> list[dirty.Defect]:
    closed = cols.pop("_closed")
    return [
        dirty.Defect(dirty.MISSING_ID, dirty.set_values("工单编号", np.array([""], dtype=object))),
        dirty.Defect(dirty.BAD_TIME, dirty.set_values("来电时间", dirty.GARBAGE_TIMES)),
        dirty.Defect(dirty.UNKNOWN_DISTRICT, dirty.set_values("所属区县", dirty.UNKNOWN_DISTRICTS)),
        dirty.Defect(dirty.CLOSED_BEFORE_CALL, _closed_before_call, closed),
        dirty.Defect(dirty.FUTURE_TIME, _future_close(cutoff), closed),
        dirty.Defect(dirty.DUPLICATE_ID, None),
        dirty.Defect(dirty.BAD_NUMBER, dirty.set_values("办理时限", dirty.BAD_NUMBERS)),
    ]
