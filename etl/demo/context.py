"""What every generator shares: the seed, the window of quarters, the calendar and the city."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.demo import city, timeline
from etl.demo.timeline import Quarter, WorkCalendar

CHUNK_ROWS = 50_000  # rows generated and written at a time: bounds memory at any --scale
SOURCE_IDS = {"approvals": 1, "hotline": 2, "ratings": 3, "reports": 4}
EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "s")


@dataclass
class Context:
    seed: int
    scale: float
    quarters: list[Quarter]
    cutoff_day: dt.date  # nothing happens on or after this day (local midnight)
    catalog_dir: Path
    districts: list[city.District]
    perf: np.ndarray  # [district, quarter] performance in [0, 1]
    cal: WorkCalendar
    items: dict[str, np.ndarray] = field(default_factory=dict)
    topics: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def cutoff(self) -> np.datetime64:
        return np.datetime64(self.cutoff_day, "s")

    def rng(self, source: str, qi: int, chunk: int = 0) -> np.random.Generator:
        """An independent stream per (source, quarter, chunk): chunks can be generated in any order."""
        return np.random.default_rng([self.seed, SOURCE_IDS[source], qi, chunk])

    def day_range(self, q: Quarter) -> tuple[int, int]:
        """Day indexes [lo, hi) of the quarter that lie before the cut-off."""
        lo = self.cal.index(q.start)
        hi = self.cal.index(min(q.end, self.cutoff_day))
        return lo, max(lo, hi)

    def is_partial(self, q: Quarter) -> bool:
        return q.end > self.cutoff_day

    @property
    def volume(self) -> float:
        """Volume multiplier: --scale × the districts' combined size (the six Quzhou districts
        sum to 1, so extra synthetic districts bring their own records, fewer bring fewer)."""
        return self.scale * float(sum(d.share for d in self.districts))

    def shares(self) -> np.ndarray:
        s = np.array([d.share for d in self.districts])
        return s / s.sum()

    def district_labels(self, rng: np.random.Generator, d: np.ndarray) -> np.ndarray:
        """所属区县 as exports write it: mostly full names, some short names (柯城), some codes."""
        names = np.array([x.name for x in self.districts], dtype=object)
        shorts = np.array([x.short for x in self.districts], dtype=object)
        codes = np.array([x.code for x in self.districts], dtype=object)
        r = rng.random(len(d))
        return np.where(r < 0.90, names[d], np.where(r < 0.96, shorts[d], codes[d]))

    def district_names(self) -> np.ndarray:
        return np.array([x.name for x in self.districts], dtype=object)


def build(
    seed: int,
    scale: float,
    quarters: list[Quarter],
    cutoff_day: dt.date,
    catalog_dir: Path,
    n_districts: int,
) -> Context:
    ds = city.districts(n_districts, catalog_dir, seed)
    # room after the window: completions of the last quarter spill forward (never past cut-off)
    cal = WorkCalendar(
        quarters[0].start - dt.timedelta(days=7),
        max(quarters[-1].end, cutoff_day) + dt.timedelta(days=400),
        catalog_dir,
    )
    ctx = Context(
        seed,
        scale,
        quarters,
        cutoff_day,
        catalog_dir,
        ds,
        city.performance(ds, len(quarters), seed),
        cal,
    )
    ctx.items = _read_columns(catalog_dir / "items.csv")
    ctx.topics = _read_columns(catalog_dir / "hotline_topics.csv")
    return ctx


def _read_columns(path: Path) -> dict[str, np.ndarray]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([r[k] for r in rows], dtype=object) for k in rows[0]}


# ── column formatting (vectorised through pyarrow) ─────────────────────────────────────────


def _ts(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype("datetime64[s]"), pa.timestamp("s"))


def fmt(values: np.ndarray, pattern: str) -> np.ndarray:
    """strftime over a datetime64 array; NaT → None."""
    return pc.strftime(_ts(values), format=pattern).to_numpy(zero_copy_only=False)


def fmt_iso(values: np.ndarray) -> np.ndarray:
    """'2026-07-01 09:05:00'; NaT → None."""
    return fmt(values, "%Y-%m-%d %H:%M:%S")


def fmt_slash(values: np.ndarray) -> np.ndarray:
    """'2026/7/1 9:05' (no zero padding, minutes only), as many 12345 systems export; NaT → None."""
    t = _ts(values)
    s = [pc.cast(f(t), pa.string()) for f in (pc.year, pc.month, pc.day, pc.hour)]
    mm = pc.utf8_lpad(pc.cast(pc.minute(t), pa.string()), 2, "0")
    out = pc.binary_join_element_wise(s[0], "/", s[1], "/", s[2], " ", s[3], ":", mm, "")
    return out.to_numpy(zero_copy_only=False)


def excel_serial(values: np.ndarray) -> np.ndarray:
    """Excel serial date-times (days since 1899-12-30) as object floats; NaT → None."""
    v = values.astype("datetime64[s]")
    serial = (v - EXCEL_EPOCH).astype(np.int64) / 86400.0
    out = serial.astype(object)
    out[np.isnat(v)] = None
    return out


def ids(prefix: str, start: int, n: int, width: int = 7) -> np.ndarray:
    """prefix + zero-padded running numbers start … start + n − 1."""
    return numbered(prefix, np.arange(start, start + n), width)


def numbered(prefix: str, numbers: np.ndarray, width: int = 7) -> np.ndarray:
    """prefix + each number zero-padded to `width`."""
    nums = pc.utf8_lpad(pc.cast(pa.array(numbers.astype(np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, nums, "").to_numpy(zero_copy_only=False)


def int_str(values: np.ndarray) -> np.ndarray:
    return pc.cast(pa.array(values.astype(np.int64)), pa.string()).to_numpy(zero_copy_only=False)


def join(*parts) -> np.ndarray:
    """Element-wise string concatenation of object arrays / scalars."""
    arrs = [p if isinstance(p, str) else pa.array(p, pa.string()) for p in parts]
    return pc.binary_join_element_wise(*arrs, "").to_numpy(zero_copy_only=False)


# ── shared behavioural draws ───────────────────────────────────────────────────────────────


def workdays_taken(
    rng: np.random.Generator,
    limit: np.ndarray,
    p: np.ndarray,
    on_time_prob: np.ndarray,
    festival: np.ndarray,
) -> np.ndarray:
    """Working days used: within the limit with probability on_time_prob (better districts finish
    earlier in the window), otherwise 1–several days late; half the cases caught in the 春节
    backlog take one working day more."""
    n = len(limit)
    gamma = 1.2 + 1.8 * p
    on = np.minimum(np.floor((limit + 1) * rng.random(n) ** gamma), limit)
    late = limit + rng.geometric(0.35, n)
    k = np.where(rng.random(n) < on_time_prob, on, late)
    k = k + (festival & (rng.random(n) < 0.5))
    return k.astype(np.int64)


def timeline_for(end: Quarter | None, n: int, today: dt.date) -> tuple[list[Quarter], dt.date]:
    """The quarters to generate and the cut-off day (nothing on or after it).

    Cut-off = today's local midnight, or the end of `end` when that lies in the past: so a run
    with an explicit past end period is reproducible on any day, and nothing is ever in the future.
    """
    end = end or timeline.quarter_of(today)
    qs = timeline.quarter_window(end, n)
    return qs, min(end.end, today)
