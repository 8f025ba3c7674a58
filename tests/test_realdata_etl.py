"""Real exports nobody here wrote (../shared/realdata, read in place, never copied), loaded through
profiles a user could write (tests/fixtures/profiles) against another city's catalogue
(tests/fixtures/catalogs). Expected figures come from each folder's PROVENANCE.md or are worked
out by hand; each test says which."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest

from etl.load import load_files
from kpi import store

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def realdata_present():
    assert REALDATA.is_dir(), f"真实数据目录不存在：{REALDATA}（应位于仓库旁的 ../shared/realdata）"


def load(files, profile, city):
    reports = load_files(
        files, profile=FIXTURES / "profiles" / profile, catalog_dir=FIXTURES / "catalogs" / city
    )
    for r in reports:
        assert r.rows_read == r.rows_loaded + r.rows_quarantined + r.rows_skipped
    return reports, store.connect_snapshot()


def test_burlington_permits_as_approvals():
    path = REALDATA / "burlington_building_permits" / "Building_Permits.csv"
    [r], con = load([path], "burlington_permits.yaml", "burlington")
    # PROVENANCE: 5,026 rows; OBJECTID unique; exactly one permit issued before intake (OBJECTID 4020)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped) == (5026, 5025, 1, 0)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        line_4020 = next(
            i for i, row in enumerate(csv.DictReader(fh), start=2) if row["OBJECTID"] == "4020"
        )
    assert con.execute(
        "SELECT line_no, column_name, reason, json_extract_string(raw, '$.OBJECTID') FROM quarantine"
    ).fetchall() == [
        # the reason names both times (ISSUEDATE 2022/12/14, INDATE 2023/03/17 in the file)
        (
            line_4020,
            "ISSUEDATE",
            "办结时间早于受理时间：“2022-12-14 00:00:00，2023-03-17 00:00:00”",
            "4020",
        )
    ]
    # PROVENANCE ward counts (4: 1,115 · 1: 935 · 2: 798 · 6: 774 · 3: 707 · 5: 697); OBJECTID 4020 is in ward 1
    assert dict(
        con.execute("SELECT district_code, count(*) FROM approvals GROUP BY 1").fetchall()
    ) == {"352401": 934, "352402": 798, "352403": 707, "352404": 1115, "352405": 697, "352406": 774}
    # PROVENANCE medians of calendar days INDATE → ISSUEDATE by ward, 2025Q1 by INDATE: ward 1 22.0 (n=67), ward 6 40.0 (n=32)
    medians = dict(
        con.execute(
            "SELECT district_code, (median(date_diff('day', accepted_at, completed_at)), count(*)) FROM approvals "
            "WHERE accepted_at >= DATE '2025-01-01' AND accepted_at < DATE '2025-04-01' GROUP BY 1"
        ).fetchall()
    )
    assert medians["352401"] == (22.0, 67) and medians["352406"] == (40.0, 32)
    # OBJECTID 1: intake Thu 2024-10-03 (National Day), issued Mon 11-04. By hand: Oct 4–7 off, Oct 8–11 = 4,
    # Sat Oct 12 调休 = 5, then four full weeks to Nov 1 = 20, Mon Nov 4 = 21.
    assert con.execute(
        "SELECT accepted_at, completed_at, workdays_used, calendar_known, status, period "
        "FROM approvals WHERE case_id = '1'"
    ).fetchone() == (
        dt.datetime(2024, 10, 3),
        dt.datetime(2024, 11, 4),
        21,
        True,
        "已办结",
        "2024Q4",
    )
    con.close()


def test_nyc_311_as_hotline():
    path = REALDATA / "nyc311_sample" / "311_Service_Requests.csv"
    [r], con = load([path], "nyc311.yaml", "nyc")
    # PROVENANCE: 1,000 rows; 10 closed before created; 14 without a close date; 27 'Unspecified' boroughs
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.rows_skipped) == (1000, 990, 10, 0)
    quarantined = con.execute(
        "SELECT split_part(reason, '：', 1), json_extract_string(raw, '$.\"Unique Key\"'), "
        "json_extract_string(raw, '$.Borough') FROM quarantine"
    ).fetchall()
    assert {q[0] for q in quarantined} == {"办结时间早于来电时间"}
    assert {"37695674", "41572681"} <= {q[1] for q in quarantined}
    unspecified_quarantined = sum(q[2] == "Unspecified" for q in quarantined)
    assert (
        con.execute("SELECT count(*) FROM hotline WHERE district_code = '360000'").fetchone()[0]
        == 27 - unspecified_quarantined
    )
    assert con.execute("SELECT count(*) FROM hotline WHERE closed_at IS NULL").fetchone()[0] == 14
    # first sample row of PROVENANCE, 12-hour clock
    assert con.execute(
        "SELECT received_at, closed_at, handling_unit, channel, district_code FROM hotline "
        "WHERE ticket_id = '39573567'"
    ).fetchone() == (
        dt.datetime(2018, 6, 26, 10, 58, 54),
        dt.datetime(2018, 6, 26, 12, 50, 1),
        "NYPD",
        "电话",
        "360081",
    )
    con.close()


def test_tipdm_messages_as_hotline():
    folder = REALDATA / "tipdm2020c_gov_messages"
    (r4, r3), con = load(
        [folder / "附件4.xlsx", folder / "附件3.xlsx"], "tipdm_messages.yaml", "tipdm"
    )
    # PROVENANCE 附件4: 2,816 rows, every timestamp parses, no negative duration; districts from 留言主题:
    # A7县 345, A8县 84, A5区 61, A6区 52, A3区 47, A4区 28, A2区 25, A1区 23, A9市 10, only A市 342
    assert (r4.rows_read, r4.rows_loaded, r4.rows_quarantined) == (
        2816,
        675 + 342,
        2816 - 675 - 342,
    )
    assert r4.quarantine_by_reason == {"区县未知": 2816 - 675 - 342}
    assert dict(
        con.execute(
            "SELECT d.district_name, count(*) FROM hotline h JOIN districts d USING (district_code) "
            "WHERE h.source_file = '附件4.xlsx' GROUP BY 1"
        ).fetchall()
    ) == {
        "A7县": 345,
        "A8县": 84,
        "A5区": 61,
        "A6区": 52,
        "A3区": 47,
        "A4区": 28,
        "A2区": 25,
        "A1区": 23,
        "A9市": 10,
        "A市": 342,
    }
    # the one real datetime cell (留言编号 2759) and the one date-only reply (27610)
    assert con.execute("SELECT received_at FROM hotline WHERE ticket_id = '2759'").fetchone() == (
        dt.datetime(2019, 4, 8, 8, 37, 20),
    )
    row = con.execute(
        "SELECT received_at, closed_at FROM hotline WHERE ticket_id = '27610'"
    ).fetchone()
    if row is not None:
        assert row == (dt.datetime(2018, 3, 19, 10, 5, 4), dt.datetime(2018, 4, 24))
    else:  # no district in its title: quarantined, and its raw times were still readable text
        assert con.execute(
            "SELECT reason FROM quarantine WHERE json_extract_string(raw, '$.留言编号') = '27610'"
        ).fetchone() == ("区县未知",)
    # scrape padding trimmed from 留言详情
    assert (
        con.execute(
            "SELECT count(*) FROM hotline WHERE content LIKE chr(10) || '%' OR content LIKE '%' || chr(9)"
        ).fetchone()[0]
        == 0
    )
    # 附件3: 4,326 rows, 129 of its 留言时间 cells are real datetimes; nothing fails to parse. District
    # counts worked out independently with Python's re over the titles (same rule as the profile).
    from python_calamine import CalamineWorkbook

    titles = [
        row[2]
        for row in CalamineWorkbook.from_path(str(folder / "附件3.xlsx"))
        .get_sheet_by_index(0)
        .to_python()[1:]
    ]
    no_place = sum(1 for t in titles if not (re.search(r"A\d+[区县市]", t) or re.search("A市", t)))
    assert (r3.rows_read, r3.rows_quarantined) == (4326, no_place)
    assert r3.quarantine_by_reason == {"区县未知": no_place}
    con.close()


def test_a_load_with_another_citys_catalogue_builds_and_titles_with_that_city(capsys):
    """`bizenv load --catalog`: the snapshot's city is the catalogue's level=city row (not
    metrics.yaml's, not the default catalogue's), and the pages open on the data's own latest
    complete quarter, not the one before today."""
    from streamlit.testing.v1 import AppTest

    from etl.cli import main

    path = REALDATA / "nyc311_sample" / "311_Service_Requests.csv"
    code = main(
        [
            "load",
            str(path),
            "--profile",
            str(FIXTURES / "profiles" / "nyc311.yaml"),
            "--catalog",
            str(FIXTURES / "catalogs" / "nyc"),
        ]
    )
    assert code == 0, capsys.readouterr()
    # the quarter of the latest close (or receipt, when open) among the rows not closed before
    # they were received, from the file itself
    fmt = "%m/%d/%Y %I:%M:%S %p"
    latest = dt.datetime.min
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            created = dt.datetime.strptime(row["Created Date"], fmt)
            closed = dt.datetime.strptime(row["Closed Date"], fmt) if row["Closed Date"] else None
            if closed is None or closed >= created:
                latest = max(latest, closed or created)
    quarter = f"{latest.year}Q{(latest.month - 1) // 3 + 1}"
    con = store.connect_snapshot()
    meta = dict(con.execute("SELECT key, value FROM snapshot_meta").fetchall())
    con.close()
    assert (meta["city_code"], meta["city_name"]) == ("360000", "New York City")
    assert meta["latest_complete_period"] == quarter == "2019Q3"
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=30)
    at.run()
    assert not at.exception
    assert at.title[0].value == "New York City营商环境指标看板"
    assert at.selectbox(key="period").value == quarter
