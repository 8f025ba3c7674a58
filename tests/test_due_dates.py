"""Timeliness by due date (issue 13): every 办件 and ticket gets its due day at load — calendar-aware,
with approved 延期 and 特别程序 time — and counts in the quarter it falls due, open or closed; an item
still open after its due day is late, not dropped. Expected due days are worked out with
chinese-calendar here (not with the loader's calendar table), the figures by hand-written SQL.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar
import pytest

from etl.demo import generate
from etl.load import load_files
from kpi import periods, store
from kpi.engine.build import build_marts

APPROVALS = (
    "办件编号,事项编码,所属区县,受理时间,办结时间,办件状态,承诺时限,延期时限,"
    "特别程序开始时间,特别程序结束时间,承诺办结时间,办理渠道"
)
HOTLINE = "工单编号,来电时间,所属区县,诉求类型,诉求分类,签收时间,办结时间,办理时限,延期天数,办结期限,回访结果,满意度"


def write(path: Path, lines: list[str], encoding="utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def rows(sql: str, params=None):
    con = store.connect_warehouse()
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def nth_workday_after(day: dt.date, n: int) -> dt.date:
    """The n-th working day after `day` (the day itself never counts), by chinese-calendar."""
    while n > 0:
        day += dt.timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59))


TODAY = dt.date.today()
YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture
def loaded(tmp_path):
    a = write(
        tmp_path / "办件.csv",
        [
            APPROVALS,
            # A1 3 working days from Wed 07-01 → Mon 07-06; closed that afternoon: on time
            "A1,SX0101,柯城区,2026-07-01 09:00,2026-07-06 16:00,已办结,3,,,,,窗口",
            # A2 closed the day after: late
            "A2,SX0101,柯城区,2026-07-01 09:00,2026-07-07 10:00,已办结,3,,,,,窗口",
            # A3 still open months after its due day: late, not absent
            "A3,SX0101,江山市,2026-07-01 09:00,,办理中,3,,,,,窗口",
            # A4 accepted in Q2, due in Q3, still open: counted in Q3
            "A4,SX0101,江山市,2026-06-29 09:00,,办理中,5,,,,,窗口",
            # A5 an approved 延期 of 5 working days: due 07-13; closed 07-10 is on time
            "A5,SX0101,柯城区,2026-07-01 09:00,2026-07-10 11:00,已办结,3,5,,,,浙里办",
            # A6 特别程序 07-02 → 07-09 (5 working days) not counted in the limit: due 07-13 too
            "A6,SX0101,柯城区,2026-07-01 09:00,2026-07-13 15:00,已办结,3,,2026-07-02 09:00,2026-07-09 17:00,,掌上办",
            # A7 the export's own deadline wins over the limit
            "A7,SX0101,柯城区,2026-07-01 09:00,2026-07-20 15:00,已办结,3,,,,2026-07-20,窗口",
            # A8 accepted yesterday with 10 working days: open and not yet due
            f"A8,SX0101,柯城区,{YESTERDAY} 09:00,,办理中,10,,,,,窗口",
            # A9 the day before 国庆: the holiday does not count
            "A9,SX0101,柯城区,2026-09-30 09:00,2026-10-09 10:00,已办结,2,,,,,窗口",
        ],
    )
    h = write(
        tmp_path / "工单.csv",
        [
            HOTLINE,
            # H1 5 working days from Wed 07-01 → Wed 07-08: on time
            "H1,2026-07-01 09:00,柯城区,投诉,拖欠工资,2026-07-01 10:00,2026-07-08 15:00,5,,,已解决,非常满意",
            # H2 +5 days 延期: due 07-15, closed 07-14
            "H2,2026-07-01 09:00,柯城区,投诉,拖欠工资,2026-07-01 10:00,2026-07-14 15:00,5,5,,未解决,非常不满意",
            # H3 open, never signed: late, and waiting for signature since
            "H3,2026-07-01 09:00,江山市,求助,拖欠工资,,,5,,,,",
            # H4 the export's 办结期限 07-03: closed 07-06 is late
            "H4,2026-07-01 09:00,江山市,咨询,拖欠工资,2026-07-01 09:30,2026-07-06 09:00,5,,2026-07-03,,",
        ],
        encoding="gbk",
    )
    load_files([a, h], build=False)
    return {
        "approvals": {
            r[0]: r[1:]
            for r in rows(
                "SELECT case_id, due_at, due_period, on_time, period, extension_days, special_days, channel "
                "FROM approvals"
            )
        },
        "hotline": {
            r[0]: r[1:]
            for r in rows(
                "SELECT ticket_id, due_at, due_period, on_time, extension_days, open_hours IS NOT NULL, "
                "resolved, satisfaction, followed_up FROM hotline"
            )
        },
    }


def test_due_days_are_counted_in_working_days(loaded):
    a = loaded["approvals"]
    jul1 = dt.date(2026, 7, 1)
    assert a["A1"][0] == end_of(nth_workday_after(jul1, 3)) == dt.datetime(2026, 7, 6, 23, 59, 59)
    assert a["A4"][0] == end_of(nth_workday_after(dt.date(2026, 6, 29), 5))
    assert a["A9"][0] == end_of(nth_workday_after(dt.date(2026, 9, 30), 2))
    assert a["A9"][0].date() > dt.date(2026, 10, 7)  # after the National Day holiday


def test_extensions_and_special_procedures_move_the_due_day(loaded):
    a = loaded["approvals"]
    due = end_of(nth_workday_after(dt.date(2026, 7, 1), 3 + 5))
    assert due == dt.datetime(2026, 7, 13, 23, 59, 59)
    assert a["A5"][0] == due and a["A5"][4] == 5 and a["A5"][2] is True
    # 特别程序 07-02 → 07-09: the working days after 07-02 up to 07-09 (5) are not counted
    assert a["A6"][0] == due and a["A6"][5] == 5 and a["A6"][2] is True
    assert a["A7"][0] == dt.datetime(2026, 7, 20) and a["A7"][2] is True


def test_an_open_item_after_its_due_day_is_late_and_counts_where_it_fell_due(loaded):
    a = loaded["approvals"]
    assert a["A1"][2] is True and a["A2"][2] is False
    assert a["A3"][2] is False  # open, overdue: late (before issue 13 it was NULL and dropped)
    assert (a["A4"][1], a["A4"][2], a["A4"][3]) == ("2026Q3", False, "2026Q2")
    assert a["A8"][2] is None  # not yet due: not counted anywhere yet
    assert a["A8"][1] == periods.period_of(nth_workday_after(YESTERDAY, 10))


def test_tickets_get_due_days_too(loaded):
    h = loaded["hotline"]
    assert h["H1"][0] == end_of(nth_workday_after(dt.date(2026, 7, 1), 5)) and h["H1"][2] is True
    assert h["H2"][0] == end_of(nth_workday_after(dt.date(2026, 7, 1), 10)) and h["H2"][2] is True
    assert h["H2"][3] == 5
    assert h["H3"][2] is False and h["H3"][4] is True  # open, unsigned: late, still waiting
    assert h["H4"][0] == dt.datetime(2026, 7, 3) and h["H4"][2] is False


def test_follow_up_answers_and_channels_are_read_as_the_office_means_them(loaded):
    h, a = loaded["hotline"], loaded["approvals"]
    # 回访结果 answers 是否解决; the five satisfaction levels are kept
    assert (h["H1"][5], h["H1"][6], h["H1"][7]) == (True, "非常满意", True)
    assert (h["H2"][5], h["H2"][6], h["H2"][7]) == (False, "非常不满意", True)
    # closed, nothing recorded on 回访: not reached; open: no 回访 yet
    assert h["H4"][7] is False and h["H3"][7] is None
    # 浙里办 and 掌上办 are 移动端 (online)
    assert a["A5"][6] == "移动端" and a["A6"][6] == "移动端"


def test_the_due_quarter_is_marked_changed_for_the_next_build(loaded):
    # A4 was accepted in Q2 and falls due in Q3: a load of it must have the build rescan both
    changed = {p for (p,) in rows("SELECT period FROM partials_changed WHERE source = 'approvals'")}
    assert {"2026Q2", "2026Q3"} <= changed


# ── the demo: the bias the old rule hid ─────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("due_demo")
    out = root / "demo"
    generate(out, seed=13, scale=0.12, quarters=3, end_period="2026Q3")
    import os

    old = os.environ.get("BIZENV_DATA_DIR")
    os.environ["BIZENV_DATA_DIR"] = str(root / "data")
    try:
        load_files(sorted(p for p in out.glob("*.*") if p.suffix != ".json"), build=False)
        build_marts(root / "data", now=dt.datetime(2026, 11, 24, 12, 0))
        con = store.connect_warehouse(root / "data")
    finally:
        if old is None:
            os.environ.pop("BIZENV_DATA_DIR")
        else:
            os.environ["BIZENV_DATA_DIR"] = old
    yield con
    con.close()


def test_the_demo_leaves_overdue_items_open_in_complete_quarters(demo):
    """Without such a tail a denominator of closed items looks right; real exports have it."""
    for table, closed in (("approvals", "completed_at"), ("hotline", "closed_at")):
        got = dict(
            demo.execute(
                f"SELECT due_period, count(*) FROM {table} WHERE {closed} IS NULL AND on_time = false "
                "AND due_period IN ('2026Q1', '2026Q2') GROUP BY 1"
            ).fetchall()
        )
        assert got.get("2026Q1", 0) > 5 and got.get("2026Q2", 0) > 5, (table, got)


@pytest.mark.parametrize(
    ("key", "table", "closed", "where", "limit"),
    [
        (
            "approval_on_time_rate",
            "approvals",
            "completed_at",
            "status = '已办结'",
            "coalesce(promised_limit_days, legal_limit_days)",
        ),
        ("hotline_on_time_rate", "hotline", "closed_at", "is_enterprise", "limit_days"),
    ],
)
def test_old_and_new_on_time_rates_differ_on_the_demo(demo, key, table, closed, where, limit):
    """The old rule (closed items of the quarter, on time = working days used ≤ limit) against the
    marts' due-date figure; and the new figure is the one a hand count of what fell due gives."""
    period = "2026Q2"
    old = demo.execute(
        f"SELECT 100.0 * count_if(workdays_used <= {limit}) / count_if(workdays_used IS NOT NULL "
        f"AND {limit} IS NOT NULL) FROM {table} WHERE period = ? AND {where} AND {closed} IS NOT NULL",
        [period],
    ).fetchone()[0]
    new = demo.execute(
        "SELECT value FROM indicator_scores WHERE indicator_key = ? AND period = ? AND is_city",
        [key, period],
    ).fetchone()[0]
    not_refused = "status NOT IN ('不予受理', '退件')" if table == "approvals" else "TRUE"
    scope = "TRUE" if table == "approvals" else where
    by_hand = demo.execute(
        f"SELECT 100.0 * count_if(on_time) / count_if(on_time IS NOT NULL) FROM {table} "
        f"WHERE due_period = ? AND {scope} AND {not_refused}",
        [period],
    ).fetchone()[0]
    assert new == pytest.approx(by_hand)
    assert abs(new - old) > 0.3, (key, old, new)
    # the open overdue items are in the new denominator: without them the rate would be higher
    without_open = demo.execute(
        f"SELECT 100.0 * count_if(on_time) / count_if(on_time IS NOT NULL AND {closed} IS NOT NULL) "
        f"FROM {table} WHERE due_period = ? AND {scope} AND {not_refused}",
        [period],
    ).fetchone()[0]
    assert without_open > new + 0.3
