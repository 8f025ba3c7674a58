"""督办 loop (issue 17): the status rules with hand-worked cases, scope on the office functions,
tasks from a snapshot's red cells (counted by an independent query), the 台账 round trip, the
load routing and the demo's figures."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from kpi import store as warehouse
from kpi.settings import DataDir
from office import roles, store
from office.audit import Actor
from office.models import AuditEvent
from office.roles import Role, Scope
from office.tracking import items, ledgers, rules, tasks
from office.tracking.models import Task, TaskEvent

D = dt.date
OFFICE = Scope(Role.OFFICE)
ME = Actor(name="wang", role="office")


# ── rules ────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "code, ok",
    [
        ("914403001922038216", True),  # 华为技术有限公司 (published)
        ("91330100799655058B", True),  # 阿里巴巴（中国）有限公司
        ("91110000802100433B", True),  # 国家电网有限公司
        ("914403001922038217", False),  # last digit changed
        ("91440300192203821", False),  # 17 characters
        ("9144030019220382I6", False),  # I is not used
        ("", True),  # optional field
    ],
)
def test_credit_code_check_digit_gb32100(code, ok):
    assert (rules.credit_code_problem(code) is None) is ok


def test_credit_code_check_char_worked_by_hand():
    # 91110000802100433B: Σ value×weight = 9·1+1·3+1·9+1·27+0+0+0+0+8·20+0+2·25+1·13+0+0+4·10+3·30+3·28
    # = 9+3+9+27+160+50+13+40+90+84 = 485; 485 mod 31 = 20; 31 − 20 = 11 → "B"
    assert rules.credit_check_char("91110000802100433") == "B"


@pytest.mark.parametrize(
    "deadline, done, today, overdue",
    [
        (D(2026, 3, 31), False, D(2026, 3, 31), False),  # the deadline day is in time
        (D(2026, 3, 31), False, D(2026, 4, 1), True),
        (D(2026, 3, 31), True, D(2026, 4, 1), False),  # done: never overdue
        (None, False, D(2026, 4, 1), False),  # no deadline
    ],
)
def test_overdue_flag(deadline, done, today, overdue):
    assert rules.is_overdue(deadline, done, today) is overdue


@pytest.mark.parametrize(
    "kind, cells, closes",
    [
        # red in 2026Q2, still red in Q3 → open
        ("red", [("2026Q2", False, "red", "ok"), ("2026Q3", False, "red", "ok")], False),
        # amber in the later complete quarter → closes
        ("red", [("2026Q2", False, "red", "ok"), ("2026Q3", False, "amber", "ok")], True),
        # green only in the partial quarter → not yet
        ("red", [("2026Q3", False, "red", "ok"), ("2026Q4", True, "green", "ok")], False),
        # not scored later (NULL rag) is no evidence of a fix
        ("red", [("2026Q3", False, None, "small")], False),
        # 应报未报 for Q2 filed late → closes
        ("not_filed", [("2026Q2", False, "amber", "ok")], True),
        ("not_filed", [("2026Q2", False, "red", "not_filed")], False),
    ],
)
def test_task_closes_itself(kind, cells, closes):
    assert (rules.task_closes(kind, "2026Q2", cells) is not None) is closes


@pytest.mark.parametrize(
    "planned, actual, progress, state, lag",
    [
        # 4 steps, 2 due by 2026-06-30 → 50 % planned; reported 45 → lag 5 → 顺利
        ([D(2026, 3, 1), D(2026, 6, 1), D(2026, 9, 1), D(2026, 12, 1)], [], 45, "进展顺利", 5.0),
        # reported 30 → lag 20 → 迟缓
        ([D(2026, 3, 1), D(2026, 6, 1), D(2026, 9, 1), D(2026, 12, 1)], [], 30, "相对迟缓", 20.0),
        # reported 10 → lag 40 → 受阻
        ([D(2026, 3, 1), D(2026, 6, 1), D(2026, 9, 1), D(2026, 12, 1)], [], 10, "受阻", 40.0),
        # no progress figure: milestones done (1 of 4 = 25 %) against 50 % → lag 25 → 迟缓 (≤ 25)
        (
            [D(2026, 3, 1), D(2026, 6, 1), D(2026, 9, 1), D(2026, 12, 1)],
            [D(2026, 3, 5)],
            None,
            "相对迟缓",
            25.0,
        ),
        # all done early → 顺利
        ([D(2026, 9, 1), D(2026, 12, 1)], [D(2026, 5, 1), D(2026, 6, 1)], None, "进展顺利", 0.0),
    ],
)
def test_project_colour_from_milestones(planned, actual, progress, state, lag):
    got_state, colour, got_lag = rules.project_state(planned, actual, progress, D(2026, 6, 30))
    assert (got_state, got_lag) == (state, lag)
    assert colour == {"进展顺利": "green", "相对迟缓": "amber", "受阻": "red"}[state]


def test_colour_meaning_is_a_setting(monkeypatch):
    monkeypatch.setenv("BIZENV_PROJECT_COLOUR_MEANING", "红=进展顺利,黄=相对迟缓,绿=受阻")
    monkeypatch.setenv("BIZENV_PROJECT_RED_LAG", "30")
    c = rules.ProjectColours.from_env()
    planned = [D(2026, 3, 1), D(2026, 6, 1), D(2026, 9, 1), D(2026, 12, 1)]
    assert rules.project_state(planned, [], 45, D(2026, 6, 30), c)[1] == "red"  # 顺利 in red
    assert rules.project_state(planned, [], 22, D(2026, 6, 30), c)[:2] == ("相对迟缓", "amber")


def test_problem_figures_against_hand_counts():
    p = pd.DataFrame(
        {
            "district_code": ["A", "A", "A", "A", "B", "B"],
            "status": ["已销号", "已销号", "已解决", "整改中", "解释说明", "整改中"],
            "deadline": [
                D(2026, 3, 1),
                D(2026, 3, 1),
                D(2026, 3, 1),
                D(2026, 3, 1),
                None,
                D(2026, 9, 1),
            ],
            "closed_on": [D(2026, 2, 28), D(2026, 3, 2), None, None, None, None],
        }
    )
    got = rules.problem_figures(p, ["district_code"], D(2026, 6, 30)).set_index("district_code")
    # A: 4 problems, solved 3 (2 销号 + 1 已解决) → 75.0 %; 销号 2, in time 1 → 50.0 %;
    #    overdue: the 整改中 one past 3-01 → 1.  B: 2 problems, solved 0 → 0.0 %; 销号 0 → no rate;
    #    the 整改中 one is due 9-01 → not overdue.
    assert got.loc[
        "A", ["问题总数", "已解决", "解决率", "已销号", "按期销号", "按期销号率", "逾期未办结"]
    ].tolist() == [
        4,
        3,
        75.0,
        2,
        1,
        50.0,
        1,
    ]
    assert got.loc["B", ["问题总数", "已解决", "解决率", "逾期未办结"]].tolist() == [2, 0, 0.0, 0]
    assert pd.isna(got.loc["B", "按期销号率"])


# ── scope on the office functions ────────────────────────────────────────────────────────────


def _problem(dd, unit="市人力社保局", district="330802", number="QZ-1") -> int:
    return items.create(
        dd,
        OFFICE,
        ME,
        "problem",
        number=number,
        source="走访",
        enterprise="衢州某某有限公司",
        credit_code="914403001922038216",
        category="招工用工",
        district_code=district,
        unit=unit,
        raised_on=D(2026, 7, 1),
        deadline=D(2026, 8, 1),
        status="整改中",
    )


def test_a_unit_cannot_edit_another_units_item(app_db):
    pid = _problem(app_db)
    other = Scope(Role.DEPARTMENT, department="市市场监管局")
    with pytest.raises(roles.Denied, match="责任单位是市人力社保局"):
        items.update(app_db, other, Actor("li", "department"), "problem", pid, evidence="x")
    own = Scope(Role.DEPARTMENT, department="市人力社保局")
    assert items.update(
        app_db, own, Actor("zhao", "department"), "problem", pid, evidence="整改报告"
    )
    with pytest.raises(roles.Denied, match="只能更新进展和佐证"):
        items.update(app_db, own, Actor("zhao", "department"), "problem", pid, unit="市市场监管局")
    with pytest.raises(roles.Denied, match="销号由营商办"):
        items.update(app_db, own, Actor("zhao", "department"), "problem", pid, status="已销号")
    with store.session(app_db) as s:
        events = s.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "tracking_change")
            .order_by(AuditEvent.id)
        ).all()
    assert [(e.actor, e.outcome) for e in events] == [
        ("li", "denied"),
        ("zhao", "ok"),
        ("zhao", "denied"),
    ]
    assert "整改报告" in (events[1].details or "") and events[1].at is not None


def test_a_district_edits_only_its_districts_items(app_db):
    pid = _problem(app_db, district="330802")
    with pytest.raises(roles.Denied, match="不属于"):
        items.update(
            app_db, Scope(Role.DISTRICT, district_code="330803"), ME, "problem", pid, measures="x"
        )
    items.update(
        app_db, Scope(Role.DISTRICT, district_code="330802"), ME, "problem", pid, measures="y"
    )
    with pytest.raises(roles.Denied):
        items.update(app_db, Scope(Role.LEADER), ME, "problem", pid, measures="z")
    with pytest.raises(roles.Denied):
        items.create(
            app_db,
            Scope(Role.DEPARTMENT, department="市人力社保局"),
            ME,
            "benchmark",
            indicator_key="x",
            level="省内",
            value=1.0,
            holder="杭州市",
        )


def test_a_bad_credit_code_is_refused_in_chinese(app_db):
    with pytest.raises(Exception, match="校验位不对"):
        items.create(
            app_db,
            OFFICE,
            ME,
            "problem",
            number="Q",
            source="走访",
            enterprise="e",
            credit_code="914403001922038217",
            category="其他",
            unit="u",
            raised_on=D(2026, 1, 1),
            status="待交办",
        )


def test_a_district_sees_only_its_problems(app_db):
    _problem(app_db, district="330802", number="A")
    _problem(app_db, district="330803", number="B")
    assert items.problems(app_db, Scope(Role.DISTRICT, district_code="330803"))[
        "number"
    ].tolist() == ["B"]
    assert len(items.problems(app_db, OFFICE)) == 2


# ── tasks from a snapshot ────────────────────────────────────────────────────────────────────


def test_tasks_proposed_for_every_red_cell_and_closed_when_no_longer_red(
    app_db, fixture_snapshot_dir
):
    snap = warehouse.current_snapshot_path(DataDir.of(fixture_snapshot_dir))
    con = warehouse.connect_snapshot(snap)
    expected = con.execute(  # independent: the cells of the newest complete quarter
        """SELECT district_code, indicator_key FROM indicator_scores
           WHERE period = (SELECT max(period) FROM periods WHERE NOT is_partial) AND NOT is_city
             AND (rag = 'red' OR data_state = 'not_filed') ORDER BY 1, 2"""
    ).fetchall()
    # a cell red in 2026Q2 and amber/green in 2026Q3 (complete): its Q2 task must close itself
    fixed = con.execute(
        """SELECT a.district_code, a.indicator_key FROM indicator_scores a JOIN indicator_scores b
             USING (district_code, indicator_key)
           WHERE a.period = '2026Q2' AND a.rag = 'red' AND b.period = '2026Q3' AND b.rag IN ('green','amber')
             AND NOT a.is_city LIMIT 1"""
    ).fetchone()
    con.close()
    assert expected, "the fixture has red cells"
    with store.session(app_db) as s:
        if fixed:
            s.add(
                Task(
                    kind="red",
                    period="2026Q2",
                    district_code=fixed[0],
                    indicator_key=fixed[1],
                    state="confirmed",
                )
            )
    got = tasks.propose(app_db, snap, today=D(2026, 11, 1))
    assert got.period == "2026Q3" and got.proposed == len(expected)
    assert got.closed == (1 if fixed else 0)
    frame = items.tasks(app_db)
    new = frame[frame["period"] == "2026Q3"]
    assert sorted(zip(new["district_code"], new["indicator_key"], strict=True)) == expected
    assert set(new["state"]) == {"proposed"}
    assert (pd.to_datetime(new["deadline"]) == pd.Timestamp(2026, 12, 1)).all()  # 30 days
    assert new["unit"].notna().all()  # each addressed to its 牵头部门
    assert tasks.propose(app_db, snap, today=D(2026, 11, 1)).proposed == 0  # no duplicates
    with store.session(app_db) as s:
        kinds = s.scalars(sa.select(TaskEvent.action)).all()
    assert kinds.count("proposed") == len(expected)


def test_confirm_progress_and_write_off_keep_history(app_db):
    with store.session(app_db) as s:
        t = Task(
            kind="red",
            period="2026Q3",
            district_code="330802",
            indicator_key="k",
            unit="市人力社保局",
            state="proposed",
            deadline=D(2026, 10, 1),
        )
        s.add(t)
        s.flush()
        tid = t.id
    dept = Scope(Role.DEPARTMENT, department="市人力社保局")
    with pytest.raises(roles.Denied):
        items.decide_task(app_db, dept, ME, tid, True)
    items.decide_task(app_db, OFFICE, ME, tid, True, "确认督办")
    items.update(app_db, dept, Actor("zhao"), "task", tid, progress="已整改一半")
    with pytest.raises(Exception, match="需要佐证"):
        items.write_off_task(app_db, OFFICE, ME, tid, "", D(2026, 10, 5))
    items.write_off_task(app_db, OFFICE, ME, tid, "整改报告", D(2026, 10, 5))
    hist = items.task_history(app_db, tid)
    assert hist["action"].tolist() == ["confirmed", "progress", "closed"]
    frame = items.tasks(app_db)
    assert frame.loc[0, "closed_how"] == "writeoff"
    assert tasks.overdue(frame, D(2026, 11, 1)) == [False]  # closed: not overdue


# ── 台账 round trip ──────────────────────────────────────────────────────────────────────────

HAND = {
    "problems": {
        "问题编号": ["QZ-001", "QZ-002"],
        "来源": ["走访", "12345"],
        "企业名称": ["衢州甲有限公司", "衢州乙有限公司"],
        "统一社会信用代码": ["914403001922038216", None],
        "问题类别": ["招工用工", "金融支持"],
        "区县代码": ["330802", "330803"],
        "责任单位": ["市人力社保局", "人民银行衢州市分行"],
        "提出日期": [pd.Timestamp(2026, 7, 1), pd.Timestamp(2026, 8, 3)],
        "整改时限": [pd.Timestamp(2026, 8, 1), None],
        "整改措施": ["专班对接", None],
        "状态": ["已销号", "整改中"],
        "销号批次": ["2026年第4批", None],
        "销号日期": [pd.Timestamp(2026, 7, 28), None],
        "佐证": ["企业确认单", None],
    },
    "projects": {
        "项目名称": ["企业开办一日办结"] * 2,
        "牵头单位": ["市市场监管局"] * 2,
        "责任领导": ["分管副市长"] * 2,
        "区县代码": [None, None],
        "年度": [2026, 2026],
        "进度（%）": [50.0, 50.0],
        "项目状态": ["推进中"] * 2,
        "进展情况": ["第一阶段完成"] * 2,
        "节点序号": [1, 2],
        "节点名称": ["方案", "推开"],
        "计划完成日期": [pd.Timestamp(2026, 3, 1), pd.Timestamp(2026, 9, 1)],
        "实际完成日期": [pd.Timestamp(2026, 3, 5), None],
    },
    "tasks": {
        "类型": ["指标红灯", "应报未报"],
        "季度": ["2026Q3", "2026Q3"],
        "区县代码": ["330802", "330803"],
        "区县": ["柯城区", "衢江区"],
        "指标代码": ["a_key", "b_key"],
        "指标": ["指标甲", "指标乙"],
        "牵头部门": ["市人力社保局", "人民银行衢州市分行"],
        "督办原因": ["红灯：80.0%", "应报未报"],
        "督办状态": ["督办中", "已销号"],
        "整改时限": [pd.Timestamp(2026, 12, 1), pd.Timestamp(2026, 11, 1)],
        "整改进展": ["整改中", None],
        "佐证": [None, "已补报"],
        "销号日期": [None, pd.Timestamp(2026, 11, 2)],
    },
    "benchmarks": {
        "指标代码": ["a_key", "a_key"],
        "对标层级": ["省内", "省外"],
        "标杆值": [98.5, 99.2],
        "标杆城市": ["杭州市", "深圳市"],
        "数据来源": ["省通报", None],
        "截至日期": [pd.Timestamp(2026, 9, 30), None],
    },
    "measures": {
        "指标代码": ["a_key"],
        "区县代码（空为全市）": [None],
        "举措名称": ["微改革"],
        "责任单位": ["市人力社保局"],
        "完成时限": [pd.Timestamp(2026, 12, 31)],
        "推进情况": ["试点"],
        "举措前数值": [80.0],
        "举措后数值": [None],
    },
    "awards": {
        "季度": ["2026Q3", "2026Q3"],
        "奖项": ["蜗牛", "骏马"],
        "单位": ["江山市市场监管局", "江山市公安局"],
        "区县代码": ["330881", None],
        "是否授予": ["是", "否"],
        "评议日期": [pd.Timestamp(2026, 10, 20)] * 2,
        "评议说明": ["会议审定", None],
        "依据": ["逾期未办结 10", None],
    },
}


def _norm(df: pd.DataFrame) -> list[tuple]:
    return [
        tuple(None if pd.isna(v) else v for v in row)
        for row in df.astype(object).itertuples(index=False)
    ]


@pytest.mark.parametrize("kind", list(HAND))
def test_ledger_round_trip(kind, tmp_path, monkeypatch):
    first = DataDir.of(tmp_path / "one")
    path = tmp_path / "in.xlsx"
    path.write_bytes(ledgers.frame_bytes(pd.DataFrame(HAND[kind]), kind))
    assert ledgers.sniff(path) == (kind, 0)
    done = ledgers.import_file(first, path, ME)
    assert done.rows == len(
        HAND[kind]["问题编号" if kind == "problems" else next(iter(HAND[kind]))]
    )
    exported = tmp_path / "out.xlsx"
    exported.write_bytes(ledgers.export_bytes(first, kind))
    # export → load into another database → export: identical rows, and the same as typed in
    second = DataDir.of(tmp_path / "two")
    ledgers.import_file(second, exported, ME)
    again = ledgers.read_back(ledgers.export_bytes(second, kind))
    once = ledgers.read_back(exported.read_bytes())
    assert list(once.columns) == [c.header for c in ledgers.TEMPLATES[kind][1]]
    assert _norm(once) == _norm(again)
    typed = ledgers.read_back(path.read_bytes())
    assert sorted(_norm(once), key=str) == sorted(_norm(typed), key=str)
    # loading the same file again changes nothing
    assert ledgers.import_file(second, exported, ME).updated == 0


def test_bizenv_load_puts_a_ledger_into_the_app_db_not_the_warehouse(tmp_path):
    path = tmp_path / "清障.xlsx"
    df = pd.DataFrame(HAND["problems"])
    df.insert(0, "备注", None)  # extra columns are allowed
    path.write_bytes(ledgers.frame_bytes(df, "problems"))
    data = tmp_path / "dd"
    env = {"BIZENV_DATA_DIR": str(data)}
    run = subprocess.run(
        [sys.executable, "-m", "etl.cli", "load", str(path)],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env},
        cwd=Path(__file__).parents[1],
    )
    assert run.returncode == 0, run.stderr
    assert "台账：清障问题台账" in run.stdout and "新增 2" in run.stdout
    assert not (data / "warehouse.duckdb").exists()
    assert len(items.problems(DataDir.of(data))) == 2
    bad = tmp_path / "bad.xlsx"
    df.loc[1, "状态"] = "完成"
    bad.write_bytes(ledgers.frame_bytes(df, "problems"))
    run = subprocess.run(
        [sys.executable, "-m", "etl.cli", "load", str(bad)],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **env},
        cwd=Path(__file__).parents[1],
    )
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "第 3 行“状态”的值“完成”无效" in run.stderr


def test_a_ledger_uploaded_in_the_browser_goes_to_the_app_db_and_the_rest_to_the_load(
    app_db, tmp_path
):
    """The 数据 page's upload: a 台账 among the exports is imported at once (no warehouse job),
    the other files are handed to the load job; a 台账 with errors writes nothing; 领导 may not."""
    from office import intake

    good = tmp_path / "清障.xlsx"
    df = pd.DataFrame(HAND["problems"])
    good.write_bytes(ledgers.frame_bytes(df, "problems"))
    bad = tmp_path / "清障_有错.xlsx"
    wrong = df.copy()
    wrong.loc[1, "状态"] = "完成"
    bad.write_bytes(ledgers.frame_bytes(wrong, "problems"))
    export = tmp_path / "办件.csv"
    export.write_text("办件编号,事项名称\nBJ1,企业设立登记\n", encoding="utf-8")

    rest, said = intake.import_ledgers(app_db, [good, bad, export], ME, OFFICE)
    assert rest == [export]
    assert [ok for ok, _ in said] == [True, False]
    assert "新增 2" in said[0][1] and "第 3 行“状态”的值“完成”无效" in said[1][1]
    assert len(items.problems(app_db)) == 2  # the good 台账's two rows, none of the bad one's
    with pytest.raises(roles.Denied):
        intake.import_ledgers(app_db, [good], ME, Scope(Role.LEADER))


# ── the demo ─────────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    import os

    from etl.bootstrap import ensure_demo_snapshot

    root = tmp_path_factory.mktemp("demo_ledgers")
    old = dict(os.environ)
    os.environ["BIZENV_DATA_DIR"] = str(root / "data")
    os.environ["BIZENV_DEMO_DIR"] = str(root / "demo")
    try:
        ensure_demo_snapshot()
        yield DataDir.of(root / "data")
    finally:
        os.environ.clear()
        os.environ.update(old)
        store.dispose_all()
        shutil.rmtree(root, ignore_errors=True)


def test_demo_ledgers_are_consistent_with_its_scores(demo_dir):
    p = items.problems(demo_dir)
    assert len(p) == 584 and p["status"].isin(rules.SOLVED).sum() == 573
    assert all(rules.credit_code_problem(c) is None for c in p["credit_code"])
    board = items.project_board(demo_dir, dt.date.today())
    assert len(board) == 24 and board["colour"].value_counts().to_dict() == {
        "green": 8,
        "amber": 8,
        "red": 8,
    }
    con = warehouse.connect_snapshot(data_dir=demo_dir)
    red = con.execute(
        """SELECT count(*) FROM indicator_scores
           WHERE period = (SELECT max(period) FROM periods WHERE NOT is_partial) AND NOT is_city
             AND (rag = 'red' OR data_state = 'not_filed')"""
    ).fetchone()[0]
    con.close()
    t = items.tasks(demo_dir)
    assert len(t) == red > 0
    assert (t["state"] == "confirmed").sum() > len(t) / 2
    a = items.awards(demo_dir)
    assert set(a[a["awarded"]]["kind"]) == {"蜗牛", "骏马"}
    # bizenv reset --demo: the demo 台账 go, an item someone entered stays
    from office.tracking.models import Milestone

    _problem(demo_dir, number="MINE-1")  # entered by a person, not the demo
    expected = 584 + 24 + len(t) + len(items.benchmarks(demo_dir))
    expected += len(items.measures(demo_dir)) + len(a)
    assert items.remove_demo(demo_dir, ME) == expected
    assert items.problems(demo_dir)["number"].tolist() == ["MINE-1"]
    assert items.tasks(demo_dir).empty and items.projects(demo_dir).empty
    with store.session(demo_dir) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Milestone)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(TaskEvent)) == 0
