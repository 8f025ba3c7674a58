"""在线指标填报 (office.filings, etl.filing_publish): a round on SQLite and PostgreSQL, the checks of
what departments type, the scope (a 部门 account reads and writes only its own lines — called
directly, not through a page), 佐证材料, the status board and reminders, and the publish that
turns approved lines into reports and scores. Expected numbers are worked out by hand."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from kpi import store as kstore
from kpi.spec.load import load_spec
from office import accounts, audit, filings, roles, store
from office.audit import Actor
from office.filings import Entry, FilingError, FilingLine
from office.roles import Denied, Role, Scope

RS = "市人力社保局"  # owns lm_arbitration_closing_rate: 分子/分母 per district, 6 lines
BANK = "人民银行衢州市分行"  # cr_sme_loan_rate (plain %, city + 6), cr_sme_loan_growth, cr_credit_loan_share
KEY = "lm_arbitration_closing_rate"
DISTRICTS = ["330802", "330803", "330822", "330824", "330825", "330881"]
OFFICE = Scope(Role.OFFICE)
BY_OFFICE = Actor("ybb", "office")
DEPT = Scope(Role.DEPARTMENT, department=RS)
BY_DEPT = Actor("rsj", "department")
BANK_SCOPE = Scope(Role.DEPARTMENT, department=BANK)
BY_BANK = Actor("rmyh", "department")


@pytest.fixture(scope="module")
def spec():
    return load_spec(check_sql=False)


def _entries(figures: dict[str, tuple[float, float]]) -> list[Entry]:
    return [Entry(KEY, d, numerator=n, denominator=m) for d, (n, m) in figures.items()]


FIGURES = {  # 审结数 / 应结数 per district
    "330802": (45, 50),
    "330803": (27, 30),
    "330822": (19, 20),
    "330824": (30, 40),
    "330825": (12, 12),
    "330881": (8, 10),
}


def _line(dd, round_id: int, district: str, key: str = KEY) -> FilingLine:
    with store.session(dd) as s:
        found = s.scalar(
            sa.select(FilingLine).where(
                FilingLine.round_id == round_id,
                FilingLine.indicator_key == key,
                FilingLine.district_code == district,
            )
        )
        assert found is not None
        return found


def test_a_round_from_draft_to_approval(app_db, spec):
    r = filings.open_round(app_db, "2026Q4", "2027-01-15", OFFICE, BY_OFFICE)
    assert (r.period, r.deadline, r.status) == ("2026Q4", dt.date(2027, 1, 15), "open")

    due = filings.lines(app_db, spec, r.id, DEPT, BY_DEPT)
    # 6 districts, filed in parts (the city's value is Σ 分子 ÷ Σ 分母: no city line)
    assert sorted(due["district_code"]) == sorted(DISTRICTS)
    assert set(due["status"]) == {"not_filed"} and due["parts"].all()
    assert set(due["numerator_label"]) == {"审结案件数"}

    draft = dict(FIGURES)
    del draft["330881"]  # one not typed yet
    res = filings.save(app_db, spec, r.id, _entries(draft), DEPT, BY_DEPT)
    assert (res.saved, res.problems) == (5, [])
    sent = filings.submit(app_db, spec, r.id, DEPT, BY_DEPT)
    assert sent.submitted == 5 and sent.incomplete == ["江山市 · 劳动人事争议仲裁结案率"]
    assert not sent.late  # 2026-12 is before 2027-01-15

    # a submitted line is locked until it comes back
    with pytest.raises(FilingError, match="不能修改"):
        filings.save(app_db, spec, r.id, _entries({"330802": (44, 50)}), DEPT, BY_DEPT)

    kecheng = _line(app_db, r.id, "330802")
    assert (
        filings.return_lines(
            app_db, r.id, "分母应为应结案件数 55，请核对", OFFICE, BY_OFFICE, [kecheng.id]
        )
        == 1
    )
    seen = filings.lines(app_db, spec, r.id, DEPT, BY_DEPT).set_index("district_code")
    assert seen.at["330802", "status"] == "returned"
    assert seen.at["330802", "reviewer_comment"] == "分母应为应结案件数 55，请核对"
    assert seen.at["330803", "status"] == "submitted"

    fixed = {"330802": (45, 55), "330881": FIGURES["330881"]}
    assert filings.save(app_db, spec, r.id, _entries(fixed), DEPT, BY_DEPT).saved == 2
    assert filings.submit(app_db, spec, r.id, DEPT, BY_DEPT).submitted == 2
    assert filings.approve(app_db, r.id, OFFICE, BY_OFFICE, department=RS) == 6
    done = filings.lines(app_db, spec, r.id, DEPT, BY_DEPT).set_index("district_code")
    assert set(done["status"]) == {"approved"}
    assert (done.at["330802", "numerator"], done.at["330802", "denominator"]) == (45, 55)
    assert done.at["330802", "reviewer_comment"] is None

    # the first submit stays the filing time; the history tells the whole story
    line = _line(app_db, r.id, "330802")
    assert line.first_submitted_at < line.submitted_at
    steps = filings.history(app_db, line.id, DEPT, BY_DEPT)
    assert list(steps["操作"]) == ["保存", "提交", "退回", "保存", "提交", "审核通过"]
    assert list(steps["分母"]) == [50, 50, 50, 55, 55, 55]
    assert steps["意见"].iloc[2] == "分母应为应结案件数 55，请核对"
    with store.session(app_db) as s:
        sub = s.scalar(sa.select(filings.FilingSubmission))
        assert sub is not None and sub.status == "approved"

    # every step is in the audit log
    logged = [a for a in audit.search(app_db, limit=None)["操作"] if "填报" in a]
    for action in (
        "filing_open",
        "filing_save",
        "filing_submit",
        "filing_return",
        "filing_approve",
    ):
        assert audit.ACTIONS[action] in logged


def test_one_round_per_quarter_and_a_closed_round_takes_nothing(app_db, spec):
    r = filings.open_round(app_db, "2026Q4", dt.date(2027, 1, 15), OFFICE, BY_OFFICE)
    with pytest.raises(FilingError, match="已经开启过"):
        filings.open_round(app_db, "2026Q4", "2027-01-20", OFFICE, BY_OFFICE)
    with pytest.raises(FilingError, match="年-月-日"):
        filings.open_round(app_db, "2027Q1", "2027/4/15", OFFICE, BY_OFFICE)
    filings.set_round(app_db, r.id, OFFICE, BY_OFFICE, status="closed")
    with pytest.raises(FilingError, match="填报已结束"):
        filings.save(app_db, spec, r.id, _entries({"330802": (1, 2)}), DEPT, BY_DEPT)


def test_the_default_deadline_is_the_data_quality_rule(spec):
    # 2026Q4 ends 2026-12-31; defaults.report_deadline_days is 15
    assert spec.defaults.report_deadline_days == 15
    assert filings.default_deadline(spec, "2026Q4") == dt.date(2027, 1, 15)
    assert filings.default_deadline(spec, "2026Q3") == dt.date(2026, 10, 15)


# ── what a department types ─────────────────────────────────────────────────────────────────


def _slot(spec, key: str, district: str, department: str):
    return next(
        s
        for s in filings.slots(spec, department)
        if s.indicator_key == key and s.district_code == district
    )


CHECKS = [
    # (indicator, district, value, numerator, denominator, problem or None)
    (KEY, "330802", None, "abc", 10, "分子（审结案件数）“abc”不是数字"),
    (KEY, "330802", None, 11, 10, "分子（审结案件数）11 大于分母（应结案件数）10"),
    (KEY, "330802", None, 3, 0, "分母（应结案件数）必须大于 0"),
    (KEY, "330802", None, -1, 10, "分子（审结案件数）不能为负数"),
    (KEY, "330802", 90, None, None, "请把数填在“分子”“分母”两列"),
    (KEY, "330802", None, "1,200", "1,300", None),  # thousands separators are fine
    ("cr_sme_loan_rate", "330800", "4.5%", None, None, "不带百分号"),
    ("cr_sme_loan_rate", "330800", 120, None, None, "超出 0–100% 的范围"),
    ("cr_sme_loan_rate", "330800", -2, None, None, "超出 0–100% 的范围"),
    ("cr_sme_loan_rate", "330800", None, 3, 4, "“分子”“分母”两列请留空"),
    ("cr_sme_loan_rate", "330800", 4.35, None, None, None),
    # a growth rate may be negative or above 100 %
    ("cr_sme_loan_growth", "330802", -3.5, None, None, None),
    ("cr_sme_loan_growth", "330802", 130, None, None, None),
]


@pytest.mark.parametrize(("key", "district", "value", "num", "den", "problem"), CHECKS)
def test_figures_are_checked_in_chinese(spec, key, district, value, num, den, problem):
    department = RS if key == KEY else BANK
    slot = _slot(spec, key, district, department)
    ind = next(i for _, i in spec.indicators() if i.key == key)
    checked = filings.check(slot, ind, Entry(key, district, value, num, den))
    if problem is None:
        assert checked.problems == []
    else:
        assert len(checked.problems) == 1 and problem in checked.problems[0]
        assert checked.problems[0].startswith(slot.where)  # names the district and indicator


def test_one_bad_figure_saves_nothing(app_db, spec):
    r = filings.open_round(app_db, "2026Q4", "2027-01-15", OFFICE, BY_OFFICE)
    res = filings.save(
        app_db,
        spec,
        r.id,
        [*_entries({"330802": (9, 10)}), Entry(KEY, "330803", numerator="九", denominator=10)],
        DEPT,
        BY_DEPT,
    )
    assert res.saved == 0 and res.problems == [
        "衢江区 · 劳动人事争议仲裁结案率：分子（审结案件数）“九”不是数字，请填写数字。"
    ]
    with store.session(app_db) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(FilingLine)) == 0


# ── scope, enforced in the functions ─────────────────────────────────────────────────────────


def test_a_department_reads_and_writes_only_its_own_lines(app_db, spec):
    r = filings.open_round(app_db, "2026Q4", "2027-01-15", OFFICE, BY_OFFICE)
    filings.save(app_db, spec, r.id, _entries({"330802": (9, 10)}), DEPT, BY_DEPT)
    filings.submit(app_db, spec, r.id, DEPT, BY_DEPT)

    mine = filings.lines(app_db, spec, r.id, BANK_SCOPE, BY_BANK)
    assert set(mine["department"]) == {BANK} and KEY not in set(mine["indicator_key"])
    assert len(mine) == 7 + 7 + 6  # two plain indicators (city + 6), one in parts (6)
    with pytest.raises(Denied, match="只能查看本部门的填报"):
        filings.lines(app_db, spec, r.id, BANK_SCOPE, BY_BANK, department=RS)
    # writing another department's indicator — even the very line — is refused, nothing written
    with pytest.raises(Denied, match="不是人民银行衢州市分行负责填报的指标"):
        filings.save(app_db, spec, r.id, _entries({"330802": (1, 10)}), BANK_SCOPE, BY_BANK)
    with pytest.raises(Denied):
        filings.attach(app_db, spec, r.id, KEY, "330802", "a.pdf", b"%PDF", BANK_SCOPE, BY_BANK)
    line = _line(app_db, r.id, "330802")
    assert (line.numerator, line.denominator) == (9, 10)
    with pytest.raises(Denied):
        filings.history(app_db, line.id, BANK_SCOPE, BY_BANK)
    # a department cannot review, not even its own lines; a reviewer cannot file
    with pytest.raises(Denied):
        filings.approve(app_db, r.id, DEPT, BY_DEPT, department=RS)
    with pytest.raises(Denied):
        filings.open_round(app_db, "2027Q1", "2027-04-15", DEPT, BY_DEPT)
    with pytest.raises(Denied, match="不是部门账号"):
        filings.save(app_db, spec, r.id, _entries({"330803": (1, 2)}), OFFICE, BY_OFFICE)
    for other in (Scope(Role.DISTRICT, district_code="330802"), Scope(Role.LEADER)):
        with pytest.raises(Denied):
            filings.lines(app_db, spec, r.id, other, Actor("x", other.role.value))
        with pytest.raises(Denied):
            filings.board(app_db, spec, r.id, other, Actor("x", other.role.value))
    with pytest.raises(Denied, match="没有绑定部门"):
        filings.lines(app_db, spec, r.id, Scope(Role.DEPARTMENT), Actor("y", "department"))
    refused = audit.search(app_db, actions=["filing_denied"], limit=None)
    assert len(refused) >= 8 and set(refused["结果"]) == {"拒绝"}
    # the reviewer sees both departments
    assert {RS, BANK} <= set(filings.lines(app_db, spec, r.id, OFFICE, BY_OFFICE)["department"])


# ── 佐证材料 ──────────────────────────────────────────────────────────────────────────────────


def test_attachments_are_kept_in_the_data_dir_with_their_digest(app_db, spec, monkeypatch):
    r = filings.open_round(app_db, "2026Q4", "2027-01-15", OFFICE, BY_OFFICE)
    body = "仲裁结案统计表".encode() * 100
    att = filings.attach(
        app_db, spec, r.id, KEY, "330803", "统计表/..\\结案统计.pdf", body, DEPT, BY_DEPT
    )
    stored = app_db.root / att.path
    assert att.path.startswith(f"attachments/{r.id}/")
    assert stored.read_bytes() == body and att.size == len(body)
    assert att.sha256 == hashlib.sha256(body).hexdigest()
    assert att.name == "结案统计.pdf"  # no folders from the browser's name
    assert filings.attachment_file(app_db, att.id, OFFICE, BY_OFFICE) == ("结案统计.pdf", body)
    with pytest.raises(Denied):
        filings.attachment_file(app_db, att.id, BANK_SCOPE, BY_BANK)
    listed = filings.attachments(app_db, r.id, DEPT, BY_DEPT)
    assert list(listed["name"]) == ["结案统计.pdf"]
    assert (
        filings.lines(app_db, spec, r.id, DEPT, BY_DEPT)
        .set_index("district_code")
        .at["330803", "attachments"]
        == 1
    )

    with pytest.raises(FilingError, match="文件类型不能作为佐证材料"):
        filings.attach(app_db, spec, r.id, KEY, "330803", "setup.exe", b"MZ", DEPT, BY_DEPT)
    monkeypatch.setenv("BIZENV_ATTACHMENT_MAX_MB", "0.001")
    with pytest.raises(FilingError, match="超过佐证材料的上限 0.001 MB.*BIZENV_ATTACHMENT_MAX_MB"):
        filings.attach(app_db, spec, r.id, KEY, "330803", "big.pdf", body, DEPT, BY_DEPT)

    filings.remove_attachment(app_db, att.id, DEPT, BY_DEPT)
    assert filings.attachments(app_db, r.id, DEPT, BY_DEPT).empty
    assert stored.exists()  # only marked removed: what was filed stays traceable


# ── the status board, reminders, and the publish ─────────────────────────────────────────────


def _backdate_first_submission(dd, round_id: int, district: str, at: dt.datetime) -> None:
    with store.session(dd) as s:
        s.execute(
            sa.update(FilingLine)
            .where(FilingLine.round_id == round_id, FilingLine.district_code == district)
            .values(first_submitted_at=at)
        )


def test_board_reminders_and_publish_agree_with_the_scores(app_db, spec):
    from etl.filing_publish import publish

    accounts.create_account(
        app_db,
        "rsj-wang",
        Role.DEPARTMENT,
        Actor.cli(),
        display_name="王科长",
        department=BANK,
        email="wang@rmyh.example.cn",
        password=None,
    )
    # 2026Q3's round: its deadline (2026-10-15) has passed, so the quarter's reports are due
    r = filings.open_round(app_db, "2026Q3", "2026-10-15", OFFICE, BY_OFFICE)
    filings.save(app_db, spec, r.id, _entries(FIGURES), DEPT, BY_DEPT)
    filings.submit(app_db, spec, r.id, DEPT, BY_DEPT)
    # 柯城区's line was first submitted on 2026-10-10 (Beijing) — before the deadline
    _backdate_first_submission(app_db, r.id, "330802", dt.datetime(2026, 10, 10, 2, 0))
    filings.return_lines(
        app_db, r.id, "请补充佐证", OFFICE, BY_OFFICE, [_line(app_db, r.id, "330881").id]
    )
    filings.approve(app_db, r.id, OFFICE, BY_OFFICE, department=RS)  # the 5 still waiting

    board = filings.board(app_db, spec, r.id, OFFICE, BY_OFFICE).set_index("indicator_id")
    rs = board.loc["D02.04"]
    assert (rs["due"], rs["approved"], rs["returned"], rs["submitted"], rs["not_filed"]) == (
        6,
        5,
        1,
        0,
        0,
    )
    assert (rs["late"], rs["on_time"]) == (5, 1)  # all but 柯城区 first submitted after 10-15
    bank = board.loc["D09.01"]
    assert (bank["due"], bank["not_filed"], bank["late"]) == (7, 7, 0)

    remind = filings.reminders(app_db, spec, r.id, OFFICE, BY_OFFICE).set_index("部门")
    assert remind.at[RS, "未报行数"] == 0 and remind.at[RS, "退回待改行数"] == 1
    assert remind.at[BANK, "未报行数"] == 20
    assert remind.at[BANK, "联系人"] == "王科长（rsj-wang，wang@rmyh.example.cn）"
    assert remind.at[RS, "联系人"] == "（没有绑定该部门的账号）"

    # five approved lines not yet in the warehouse: the review page offers to load them again
    assert filings.unpublished(app_db, r.id, OFFICE, BY_OFFICE) == 5
    with pytest.raises(roles.Denied):
        filings.unpublished(app_db, r.id, Scope(Role.LEADER), BY_OFFICE)
    summary = publish(app_db, r.id, BY_OFFICE)
    assert (summary["lines"], summary["rows_loaded"], summary["rows_quarantined"]) == (5, 5, 0)
    assert filings.unpublished(app_db, r.id, OFFICE, BY_OFFICE) == 0
    con = kstore.connect_snapshot(kstore.current_snapshot_path(app_db))
    try:
        reports = con.execute(
            "SELECT district_code, numerator, denominator, reported_by, reported_at FROM reports "
            "WHERE indicator_key = ? ORDER BY district_code",
            [KEY],
        ).fetchall()
        values = dict(
            con.execute(
                "SELECT district_code, value FROM indicator_scores "
                "WHERE indicator_key = ? AND period = '2026Q3'",
                [KEY],
            ).fetchall()
        )
        dq = dict(
            con.execute(
                "SELECT district_code, reports_on_time FROM data_quality WHERE period = '2026Q3'"
            ).fetchall()
        )
    finally:
        con.close()
    # the returned 江山市 line is not loaded
    assert [row[0] for row in reports] == ["330802", "330803", "330822", "330824", "330825"]
    assert {row[3] for row in reports} == {RS}
    assert reports[0][4] == dt.datetime(2026, 10, 10, 10, 0)  # first submission, Beijing time
    assert values["330802"] == pytest.approx(90.0)  # 45 ÷ 50 × 100
    assert values["330824"] == pytest.approx(75.0)  # 30 ÷ 40 × 100
    # the city: Σ 分子 ÷ Σ 分母 of the districts filed = (45+27+19+30+12) ÷ (50+30+20+40+12)
    assert values["330800"] == pytest.approx(133 / 152 * 100)
    # 填报及时率 counts the same on-time line as the board: 柯城区 on time, 衢江区 late
    assert dq["330802"] == 1 and dq["330803"] == 0

    # the returned line, corrected and approved, reaches the next build
    filings.save(app_db, spec, r.id, _entries({"330881": (9, 10)}), DEPT, BY_DEPT)
    filings.submit(app_db, spec, r.id, DEPT, BY_DEPT)
    filings.approve(app_db, r.id, OFFICE, BY_OFFICE, department=RS)
    again = publish(app_db, r.id, BY_OFFICE)
    assert (again["lines"], again["rows_inserted"], again["rows_unchanged"]) == (6, 1, 5)
    con = kstore.connect_snapshot(kstore.current_snapshot_path(app_db))
    try:
        city = con.execute(
            "SELECT value FROM indicator_scores WHERE indicator_key = ? AND period = '2026Q3' "
            "AND district_code = '330800'",
            [KEY],
        ).fetchone()[0]
    finally:
        con.close()
    assert city == pytest.approx(142 / 162 * 100)
    assert audit.ACTIONS["filing_publish"] in set(audit.search(app_db, limit=None)["操作"])


def test_nothing_approved_publishes_nothing(app_db):
    from etl.filing_publish import publish

    r = filings.open_round(app_db, "2026Q4", "2027-01-15", OFFICE, BY_OFFICE)
    assert publish(app_db, r.id, BY_OFFICE) == {"period": "2026Q4", "lines": 0, "file": None}
    assert kstore.current_snapshot_path(app_db) is None


def test_roles_and_pages():
    assert Scope(Role.OFFICE).may(roles.REVIEW_FILINGS)
    assert Scope(Role.ADMIN).may(roles.REVIEW_FILINGS)
    assert not Scope(Role.DEPARTMENT).may(roles.REVIEW_FILINGS)
    assert Scope(Role.DEPARTMENT).may(roles.FILE_REPORTS)
    assert not Scope(Role.LEADER).may(roles.FILE_REPORTS)
    assert roles.PAGES[Role.DEPARTMENT] >= {"filing"}
    assert "filing_review" in roles.PAGES[Role.OFFICE] and "filing" not in roles.PAGES[Role.OFFICE]
    for role in (Role.DISTRICT, Role.LEADER, Role.SCREEN):
        assert not {"filing", "filing_review"} & roles.PAGES[role]
