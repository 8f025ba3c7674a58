"""办件明细: approval cases, one UTF-8 CSV per quarter (BOM on every other quarter).

A case is accepted (受理) in office hours on a working day and completed a number of working days
later; better districts finish sooner, more of them online (全程网办) and with fewer trips.
Cases still open at the cut-off are 办理中 with an empty 办结时间 — and a tail of cases is stuck
(more in weaker districts): still 办理中 at the cut-off long after they fell due, as real 办件库
exports show (without them a denominator of closed cases hides the overdue ones). Simple items are
often 即办件 (办件类型, 承诺时限 0, done the same day); a few cases carry an approved 延期 or
特别程序 time (行政许可法 §45) that moves their due day.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from etl.demo import context as cx
from etl.demo import dirty
from etl.demo.context import Context

COLUMNS = [
    "办件编号",
    "事项编码",
    "事项名称",
    "所属区县",
    "办理部门",
    "申请人类型",
    "办理渠道",
    "受理时间",
    "办结时间",
    "办件状态",
    "办件类型",
    "法定时限",
    "承诺时限",
    "延期时限",
    "特别程序时限",
    "跑动次数",
]
PER_QUARTER = 8000  # cases per quarter for the whole city at --scale 1
_WORKDAYS_PER_QUARTER = 61.0
_WEEKDAY_WEIGHT = np.array([1.2, 1.05, 1.0, 1.0, 0.85, 0.9, 0.9])  # Mon…Sun (weekend = 调休 days)
GROWTH = 1.02  # volumes grow ~2% a quarter


def file_name(q) -> str:
    return f"办件明细_{q.label}.csv"


def day_weights(ctx: Context) -> np.ndarray:
    return np.where(ctx.cal.is_work, _WEEKDAY_WEIGHT[ctx.cal.weekday], 0.0)


def quarter_count(ctx: Context, qi: int) -> int:
    """Number of cases accepted in quarter qi (before the cut-off)."""
    lo, hi = ctx.day_range(ctx.quarters[qi])
    w = day_weights(ctx)[lo:hi].sum() / _WEEKDAY_WEIGHT[:5].mean()
    return int(np.rint(PER_QUARTER * ctx.volume * GROWTH**qi * w / _WORKDAYS_PER_QUARTER))


def case_ids(q, seq: np.ndarray) -> np.ndarray:
    """办件编号 of the quarter's cases with these running numbers (1-based)."""
    return cx.numbered(f"BJ{q.year}{q.q}", seq)


def case_districts(ctx: Context, qi: int) -> np.ndarray:
    """The district (index) of each case of quarter qi, by running number − 1: the same first draw
    `_rows` makes per chunk (so 好差评 can rate the cases of its own district)."""
    n = len(
        cx.timeline.sample_days(
            ctx.rng("approvals", qi),
            quarter_count(ctx, qi),
            day_weights(ctx),
            *ctx.day_range(ctx.quarters[qi]),
        )
    )
    parts = [
        ctx.rng("approvals", qi, c + 1).choice(
            len(ctx.districts), min(cx.CHUNK_ROWS, n - start), p=ctx.shares()
        )
        for c, start in enumerate(range(0, n, cx.CHUNK_ROWS))
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def chunks(ctx: Context, qi: int) -> Iterator[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    """Yield (columns, dirty positions by reason) chunk by chunk for quarter qi."""
    q = ctx.quarters[qi]
    lo, hi = ctx.day_range(q)
    days = cx.timeline.sample_days(
        ctx.rng("approvals", qi), quarter_count(ctx, qi), day_weights(ctx), lo, hi
    )
    for c, start in enumerate(range(0, len(days), cx.CHUNK_ROWS)):
        rng = ctx.rng("approvals", qi, c + 1)
        cols = _rows(ctx, qi, days[start : start + cx.CHUNK_ROWS], start, rng)
        yield cols, dirty.inject(cols, "办件编号", _defects(cols, ctx.cutoff), rng, rotate=qi + c)


def _rows(ctx: Context, qi: int, day: np.ndarray, seq0: int, rng: np.random.Generator) -> dict:
    q, cal, items = ctx.quarters[qi], ctx.cal, ctx.items
    n = len(day)
    d = rng.choice(len(ctx.districts), n, p=ctx.shares())
    p = ctx.perf[d, qi]
    weight = items["weight"].astype(float)
    it = rng.choice(len(weight), n, p=weight / weight.sum())
    legal = items["legal_limit_days"].astype(np.int64)[it]
    promised = items["promised_limit_days"].astype(np.int64)[it]
    enterprise_item = items["is_enterprise"][it] == "true"

    accept_s = cx.timeline.office_seconds(rng, n)
    order = np.lexsort((accept_s, day))  # exports list cases in acceptance order
    day, accept_s = day[order], accept_s[order]
    accepted = cal.to_datetime(day, accept_s)

    online = rng.random(n) < 0.40 + 0.45 * p
    offline_channel = np.array(["窗口", "自助终端", "移动端"], dtype=object)[
        rng.choice(3, n, p=[0.65, 0.15, 0.20])
    ]
    channel = np.where(online, "全程网办", offline_channel)
    r = rng.random(n)
    visits = np.select(
        [online, channel == "移动端", channel == "自助终端"],
        [(r < 0.10 * (1 - p)).astype(np.int64), 0, 1],
        np.where(r < 0.15 + 0.45 * p, 0, np.where(r < 0.75 + 0.2 * p, 1, 2)),
    )
    applicant = np.where(rng.random(n) < np.where(enterprise_item, 0.92, 0.12), "企业", "个人")

    refused = rng.random(n) < 0.02
    # 即办件: a district lists some simple items as 即办 (承诺时限 0, done on the spot) — the better
    # the district, the more; the choice is the district's, per item (its 实施清单), not per case
    listing = np.random.default_rng([ctx.seed, 47]).random((2, len(ctx.districts), len(weight)))
    instant = (promised <= 1) & (listing[0, d, it] < 0.25 + 0.35 * p)
    # … and promises other items in fewer days than the catalogue's (承诺时限压缩), the better more
    cut = 1 - 0.5 * p * listing[1, d, it]
    promised = np.where(promised > 1, np.maximum(1, np.ceil(promised * cut)), promised).astype(
        np.int64
    )
    promised = np.where(instant, 0, promised)
    # an approved 延期 (a few working days) or 特别程序 time (检测、鉴定、专家评审: construction)
    extended = ~instant & (rng.random(n) < 0.02)
    extension = np.where(extended, rng.integers(3, 11, n), 0)
    special_item = items["domain_key"][it] == "construction_permits"
    special = np.where(special_item & (rng.random(n) < 0.15), rng.integers(5, 21, n), 0)
    festival = cal.near_festival(day)
    k = cx.workdays_taken(rng, promised, p, 0.80 + 0.18 * p - 0.06 * festival, festival)
    k = k + extension + special
    k = np.where(refused, rng.integers(0, 2, n), k)
    done_day = cal.add_workdays(day, k)
    # 即办: done within the same afternoon/morning, before the hall closes at 17:50
    room = np.maximum(17 * 3600 + 50 * 60 - accept_s, 600)
    same_day = accept_s + (300 + rng.random(n) * (np.minimum(room, 9000) - 300)).astype(np.int64)
    done_s = np.where(k == 0, same_day, cx.timeline.office_seconds(rng, n))
    completed = cal.to_datetime(done_day, done_s)
    # stuck: never closed by the cut-off however long ago it fell due (weaker districts more)
    stuck = ~refused & (rng.random(n) < 0.004 + 0.03 * (1 - p))
    open_case = (completed >= ctx.cutoff) | stuck
    completed = np.where(open_case, np.datetime64("NaT"), completed)
    status = np.where(open_case, "办理中", np.where(refused, "不予受理", "已办结"))

    names = ctx.district_names()
    return {
        "办件编号": case_ids(q, np.arange(seq0 + 1, seq0 + n + 1)),
        "事项编码": items["item_code"][it],
        "事项名称": items["item_name"][it],
        "所属区县": ctx.district_labels(rng, d),
        "办理部门": cx.join(names[d], items["department"][it]),
        "申请人类型": applicant.astype(object),
        "办理渠道": channel.astype(object),
        "受理时间": cx.fmt_iso(accepted),
        "办结时间": cx.fmt_iso(completed),
        "办件状态": status.astype(object),
        "办件类型": np.where(instant, "即办件", "承诺件").astype(object),
        "法定时限": cx.int_str(legal),
        "承诺时限": cx.int_str(promised),
        "延期时限": np.where(extended, cx.int_str(extension), None).astype(object),
        "特别程序时限": np.where(special > 0, cx.int_str(special), None).astype(object),
        "跑动次数": cx.int_str(visits),
        # kept for dirty-row eligibility only; never written
        "_completed": ~open_case,
    }


def _completed_before_accepted(cols, idx, rng) -> None:
    """办结时间 a few hours to days before 受理时间."""
    acc = cols["受理时间"][idx].astype("datetime64[s]")
    back = rng.integers(3600, 5 * 86400, len(idx)).astype("timedelta64[s]")
    cols["办结时间"][idx] = cx.fmt_iso(acc - back)


def _future_completion(cutoff: np.datetime64):
    def apply(cols, idx, rng) -> None:
        """办结时间 next year: later than any real 'now'."""
        cols["办结时间"][idx] = cx.fmt_iso(dirty.future_times(rng, len(idx), cutoff))

    return apply


def _defects(cols, cutoff: np.datetime64) -> list[dirty.Defect]:
    done = cols.pop("_completed")
    return [
        dirty.Defect(dirty.MISSING_ID, dirty.set_values("办件编号", np.array([""], dtype=object))),
        dirty.Defect(dirty.BAD_TIME, dirty.set_values("受理时间", dirty.GARBAGE_TIMES)),
        dirty.Defect(dirty.UNKNOWN_DISTRICT, dirty.set_values("所属区县", dirty.UNKNOWN_DISTRICTS)),
        dirty.Defect(dirty.COMPLETED_BEFORE, _completed_before_accepted, done),
        dirty.Defect(dirty.FUTURE_TIME, _future_completion(cutoff), done),
        dirty.Defect(dirty.DUPLICATE_ID, None),
        dirty.Defect(dirty.BAD_NUMBER, dirty.set_values("法定时限", dirty.BAD_NUMBERS)),
    ]
