"""Working days: chinese-calendar for known years (调休 counted, holidays not), holidays.yaml for
later ones, weekday-only counting flagged calendar_known = false when neither knows the year."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from etl.calendar import calendar_table
from etl.load import load_files
from kpi import settings, store

HEADER = "办件编号,事项编码,所属区县,受理时间,办结时间,承诺时限"


def day(table, date: str) -> dict:
    d = dt.date.fromisoformat(date)
    i = table.column("day").to_pylist().index(d)
    return {name: table.column(name)[i].as_py() for name in ("is_workday", "known", "holiday_name")}


def test_library_years_know_tiaoxiu_and_holidays():
    table = calendar_table(settings.catalog_dir() / "holidays.yaml")
    assert day(table, "2026-02-14") == {
        "is_workday": True,
        "known": True,
        "holiday_name": "春节调休上班",
    }  # Saturday
    assert day(table, "2026-02-16") == {
        "is_workday": False,
        "known": True,
        "holiday_name": "春节",
    }  # Monday
    assert day(table, "2026-02-13") == {
        "is_workday": True,
        "known": True,
        "holiday_name": None,
    }  # Friday
    assert day(table, "2027-01-01") == {
        "is_workday": True,
        "known": False,
        "holiday_name": None,
    }  # Friday, unknown year


def load_one(tmp_path, accepted: str, completed: str, catalog: Path | None = None):
    path = tmp_path / "办件.csv"
    path.write_text(f"{HEADER}\nBJ1,SX0101,柯城区,{accepted},{completed},5\n", encoding="utf-8")
    load_files([path], build=False, catalog_dir=catalog)
    con = store.connect_warehouse()
    try:
        return con.execute(
            "SELECT workdays_used, on_time, calendar_known FROM approvals"
        ).fetchone()
    finally:
        con.close()


@pytest.mark.parametrize(
    "accepted, completed, expected",
    [
        # Fri 02-13 → Tue 02-24: Sat 02-14 is a 调休 working day, 02-15…02-23 the Spring Festival, Tue 02-24 → 2
        ("2026-02-13 09:00", "2026-02-24 10:00", (2, True, True)),
        # Fri 02-13 → Fri 02-27: 02-14, 02-24, 25, 26, 27 → 5 (still on time against 承诺 5)
        ("2026-02-13 09:00", "2026-02-27 10:00", (5, True, True)),
        # Fri 02-13 → Sat 02-28 (调休): 6 > 5
        ("2026-02-13 09:00", "2026-02-28 10:00", (6, False, True)),
        # same-day completion: the acceptance day is not counted
        ("2026-07-01 09:00", "2026-07-01 17:00", (0, True, True)),
        # Wed 2026-09-30 → Thu 10-08: 10-01…10-07 National Day, Sun 09-27 and Sat 10-10 调休 outside the span → 1
        ("2026-09-30 09:00", "2026-10-08 09:00", (1, True, True)),
    ],
)
def test_workdays_used_in_known_years(tmp_path, accepted, completed, expected):
    assert load_one(tmp_path, accepted, completed) == expected


def test_an_unknown_year_loads_weekdays_only_and_is_flagged(tmp_path, monkeypatch):
    # 2027-01-01 is a Friday: weekday-only counting from Thu 2026-12-31 gives Fri 01-01, Mon 01-04, Tue 01-05 → 3.
    monkeypatch.setattr("etl.load.local_now", lambda: dt.datetime(2027, 6, 1))
    assert load_one(tmp_path, "2026-12-31 09:00", "2027-01-05 09:00") == (3, True, False)


def test_a_holidays_yaml_entry_makes_the_year_known(tmp_path, monkeypatch):
    monkeypatch.setattr("etl.load.local_now", lambda: dt.datetime(2027, 6, 1))
    catalog = tmp_path / "catalog"
    shutil.copytree(settings.catalog_dir(), catalog)
    (catalog / "holidays.yaml").write_text(
        "years: [2027]\nholidays:\n  2027-01-01: 元旦\n  2027-01-04: 元旦\nworkdays:\n  2027-01-02: 元旦调休上班\n",
        encoding="utf-8",
    )
    # Thu 12-31 → Tue 01-05: 01-01 and 01-04 off, Sat 01-02 worked, Tue 01-05 → 2, and now known
    assert load_one(tmp_path, "2026-12-31 09:00", "2027-01-05 09:00", catalog) == (2, True, True)
    con = store.connect_warehouse()
    assert con.execute(
        "SELECT is_workday, known, holiday_name FROM calendar WHERE day = DATE '2027-01-01'"
    ).fetchone() == (False, True, "元旦")
    con.close()
