"""好差评明细: 政务服务 ratings, one XLSX per quarter with real Excel date-time cells.

Five levels (非常满意 … 非常不满意) at published rates (好评率 around 98–99.6 %); 差评 (不满意/非常不满意)
are rarer in better districts and more often rectified (整改) there, mostly within the 15 working
days the rules allow, some later; a 差评 whose rectification would fall after the cut-off is still
未整改. Most 差评 are called back (是否回访); a few are found invalid on 申诉复核. A 办件 rated again
after its 差评 was rectified gets a second row with 评价次数 2 — a re-rating, not a new rating.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from etl.demo import approvals, dirty
from etl.demo import context as cx
from etl.demo.context import Context

COLUMNS = [
    "评价编号",
    "评价时间",
    "评价渠道",
    "所属区县",
    "评价部门",
    "事项编码",
    "办件编号",
    "评价次数",
    "评价等级",
    "是否整改",
    "整改时间",
    "是否回访",
    "申诉复核结果",
]
DATE_COLUMNS = {"评价时间", "整改时间"}
PER_QUARTER = 5000
GROWTH = 1.02
LEVELS = np.array(["非常满意", "满意", "基本满意", "不满意", "非常不满意"], dtype=object)
_CHANNELS = np.array(
    ["PC端", "移动端", "二维码", "政务大厅平板电脑", "政务大厅其他终端", "电话", "短信"],
    dtype=object,
)
_CHANNEL_P = [0.15, 0.35, 0.15, 0.25, 0.05, 0.03, 0.02]
_WEEKDAY_WEIGHT = np.array([1.15, 1.05, 1.0, 1.0, 0.9, 0.3, 0.25])


def file_name(q) -> str:
    return f"好差评明细_{q.label}.xlsx"


def day_weights(ctx: Context) -> np.ndarray:
    # most ratings are given in the hall on working days; online ones trickle in on days off
    return np.where(ctx.cal.is_work, _WEEKDAY_WEIGHT[ctx.cal.weekday], 0.25)


def quarter_count(ctx: Context, qi: int) -> int:
    lo, hi = ctx.day_range(ctx.quarters[qi])
    full = 61 * _WEEKDAY_WEIGHT[:5].mean() + 30 * 0.27
    return int(
        np.rint(PER_QUARTER * ctx.volume * GROWTH**qi * day_weights(ctx)[lo:hi].sum() / full)
    )


def chunks(ctx: Context, qi: int) -> Iterator[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    q = ctx.quarters[qi]
    lo, hi = ctx.day_range(q)
    days = cx.timeline.sample_days(
        ctx.rng("ratings", qi), quarter_count(ctx, qi), day_weights(ctx), lo, hi
    )
    for c, start in enumerate(range(0, len(days), cx.CHUNK_ROWS)):
        rng = ctx.rng("ratings", qi, c + 1)
        cols = _rows(ctx, qi, days[start : start + cx.CHUNK_ROWS], start, rng)
        yield cols, dirty.inject(cols, "评价编号", _defects(cols, ctx.cutoff), rng, rotate=qi + c)


def _rows(ctx: Context, qi: int, day: np.ndarray, seq0: int, rng: np.random.Generator) -> dict:
    q, cal, items = ctx.quarters[qi], ctx.cal, ctx.items
    n = len(day)
    d = rng.choice(len(ctx.districts), n, p=ctx.shares())
    p = ctx.perf[d, qi]
    secs = np.where(
        cal.is_work[day],
        cx.timeline.office_seconds(rng, n),
        cx.timeline.hotline_seconds(rng, n) + rng.integers(0, 60, n),
    )
    order = np.lexsort((secs, day))
    day, secs = day[order], secs[order]
    rated = cal.to_datetime(day, secs)

    weight = items["weight"].astype(float)
    it = rng.choice(len(weight), n, p=weight / weight.sum())
    bad = 0.004 + 0.02 * (1 - p)
    basic = 0.01 + 0.03 * (1 - p)
    r = rng.random(n)
    level = np.where(
        r < bad,
        np.where(rng.random(n) < 0.7, 3, 4),
        np.where(r < bad + basic, 2, np.where(rng.random(n) < 0.75, 0, 1)),
    )
    is_bad = level >= 3
    # rectified within 1–30 days (most within the 15 working days the rules give, some later)
    days = np.minimum(1 + rng.exponential(6 + 10 * (1 - p), n), 45).astype(np.int64)
    fix_at = rated + (days * 86400 + rng.integers(-3 * 3600, 3 * 3600, n)).astype("timedelta64[s]")
    fixed = is_bad & (rng.random(n) < 0.6 + 0.35 * p) & (fix_at < ctx.cutoff)
    rectified = np.where(is_bad, np.where(fixed, "是", "否"), None)
    fix_at = np.where(fixed, fix_at, np.datetime64("NaT"))
    called = np.where(is_bad, np.where(rng.random(n) < 0.75 + 0.24 * p, "是", "否"), None)
    r = rng.random(n)
    appeal = np.where(
        is_bad & (r < 0.06), "认定无效", np.where(is_bad & (r < 0.15), "维持差评", None)
    )

    # most ratings name the case they rate: a case of the same quarter and district (better
    # districts invite more of their applicants to rate)
    seq = _cases_of(ctx, qi, d, rng)
    case = approvals.case_ids(q, np.maximum(seq, 1))
    case = np.where((seq > 0) & (rng.random(n) < 0.55 + 0.4 * p), case, None)

    names = ctx.district_names()
    cols = {
        "评价编号": cx.ids(f"PJ{q.year}{q.q}", seq0 + 1, n),
        "评价时间": cx.excel_serial(rated),
        "评价渠道": _CHANNELS[rng.choice(len(_CHANNELS), n, p=_CHANNEL_P)],
        "所属区县": ctx.district_labels(rng, d),
        "评价部门": cx.join(names[d], items["department"][it]),
        "事项编码": items["item_code"][it],
        "办件编号": case.astype(object),
        "评价次数": np.full(n, "1", dtype=object),
        "评价等级": LEVELS[level],
        "是否整改": rectified.astype(object),
        "整改时间": cx.excel_serial(fix_at),
        "是否回访": called.astype(object),
        "申诉复核结果": appeal.astype(object),
        "_unfixed": ~fixed,
    }
    # A rectified 差评 of a named case is often rated again a day or two later: 评价次数 2. The
    # re-rating takes the place of another (good) rating of the chunk, so chunks keep their size.
    again = np.flatnonzero(fixed & (case != None) & (rng.random(n) < 0.4))  # noqa: E711
    rerated = fix_at[again] + rng.integers(3600, 2 * 86400, len(again)).astype("timedelta64[s]")
    keep = rerated < ctx.cutoff
    again, rerated = again[keep], rerated[keep]
    spare = np.flatnonzero(~is_bad)
    if len(again) and len(spare) > len(again):
        slot = rng.choice(spare, len(again), replace=False)
        for col in ("评价渠道", "所属区县", "评价部门", "事项编码", "办件编号"):
            cols[col][slot] = cols[col][again]
        cols["评价时间"][slot] = cx.excel_serial(rerated)
        cols["评价次数"][slot] = "2"
        cols["评价等级"][slot] = LEVELS[rng.choice(3, len(again), p=[0.5, 0.35, 0.15])]
    return cols


def _cases_of(ctx: Context, qi: int, d: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A running number of a case of district d[i] in quarter qi for each rating (0: none)."""
    owner = _case_owners(ctx, qi)
    out = np.zeros(len(d), dtype=np.int64)
    for k in np.unique(d):
        mine = np.flatnonzero(owner == k) + 1
        at = np.flatnonzero(d == k)
        if len(mine):
            out[at] = mine[rng.integers(0, len(mine), len(at))]
    return out


_OWNERS: dict[tuple, np.ndarray] = {}


def _case_owners(ctx: Context, qi: int) -> np.ndarray:
    key = (ctx.seed, ctx.scale, len(ctx.districts), ctx.quarters[qi], ctx.cutoff_day)
    if key not in _OWNERS:
        _OWNERS.clear()  # one quarter at a time: the generator goes through them in order
        _OWNERS[key] = approvals.case_districts(ctx, qi)
    return _OWNERS[key]


def _future_rating(cutoff: np.datetime64):
    def apply(cols, idx, rng) -> None:
        cols["评价时间"][idx] = cx.excel_serial(dirty.future_times(rng, len(idx), cutoff))

    return apply


def _bad_level(cols, idx, rng) -> None:
    pool = np.array(["特别满意", 6, 0, "超级满意"], dtype=object)
    cols["评价等级"][idx] = pool[rng.integers(0, len(pool), len(idx))]


def _defects(cols, cutoff: np.datetime64) -> list[dirty.Defect]:
    unfixed = cols.pop("_unfixed")
    return [
        dirty.Defect(dirty.MISSING_ID, dirty.set_values("评价编号", np.array([""], dtype=object))),
        dirty.Defect(dirty.BAD_TIME, dirty.set_values("评价时间", dirty.GARBAGE_TIMES)),
        dirty.Defect(dirty.UNKNOWN_DISTRICT, dirty.set_values("所属区县", dirty.UNKNOWN_DISTRICTS)),
        # a 2027 rating on a rectified row would also put 整改时间 before 评价时间: avoid those
        dirty.Defect(dirty.FUTURE_TIME, _future_rating(cutoff), unfixed),
        dirty.Defect(dirty.BAD_LEVEL, _bad_level),
        dirty.Defect(dirty.DUPLICATE_ID, None),
    ]
