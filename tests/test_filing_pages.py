"""The two 填报 pages in AppTest on the fixture snapshot: each role sees what it may (and the
sparse states say what to do); the department's page lists its own lines only; a 营商办 can open a
round from its page; the review page's board and reminders render. The whole flow with typing and
review runs in real Chromium (tests/browser/test_filing_browser.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from office import filings
from office.audit import Actor
from office.roles import Role, Scope
from tests.test_signin_pages import navigation_as_on_a_server, open_app, snapshot  # noqa: F401

OFFICE = Scope(Role.OFFICE)


def _open_round(dd, period="2026Q4"):
    return filings.open_round(
        dd, period, "2027-01-15", OFFICE, Actor("ybb", "office"), note="请按时填报"
    )


@pytest.mark.signed_in_as("部门", department="市人力社保局")
def test_the_department_page_without_and_with_a_round(snapshot):  # noqa: F811
    at = open_app("filing")
    assert [t.value for t in at.title] == ["指标填报"]
    assert any("目前没有正在进行的填报轮次" in i.value for i in at.info)
    _open_round(snapshot)
    at = open_app("filing")
    assert not at.exception
    assert any("请按时填报" in i.value for i in at.info)
    shown = at.get("arrow_data_frame") or at.dataframe
    assert shown, "the entry table is shown"
    labels = {m.label: m.value for m in at.metric}
    assert labels["应报"] == "6" and labels["未提交"] == "6"
    assert all(b.label != "开启填报" for b in at.button)


@pytest.mark.signed_in_as("部门", department="市商务局")
def test_a_department_that_owns_nothing_is_told_so(snapshot):  # noqa: F811
    _open_round(snapshot)
    at = open_app("filing")
    assert any("没有需要在线填报的指标" in i.value for i in at.info)


@pytest.mark.signed_in_as("营商办")
def test_the_office_opens_a_round_and_sees_the_board(snapshot):  # noqa: F811
    at = open_app("filing_review")
    assert any("还没有填报轮次" in i.value for i in at.info)
    at.selectbox(key="open_period").set_value("2026Q4")
    at.run()
    next(b for b in at.button if b.label == "开启填报").click()
    at.run()
    assert not at.exception
    assert [r.period for r in filings.rounds(snapshot)] == ["2026Q4"]
    assert filings.rounds(snapshot)[0].deadline.isoformat() == "2027-01-15"
    assert any("已开启2026年第四季度的填报" in s.value for s in at.success)
    assert any("没有待审核的填报" in i.value for i in at.info)
    assert [t.label for t in at.tabs] == ["审核", "填报情况", "催报名单"]
    assert not any("页面出错了" in e.value for e in at.error)
    # 延期: the deadline moves, audited
    rnd = filings.rounds(snapshot)[0]
    at.date_input(key=f"rv_deadline_{rnd.id}").set_value(dt.date(2027, 1, 25))
    at.run()
    next(b for b in at.button if b.label == "修改截止日期").click()
    at.run()
    assert filings.rounds(snapshot)[0].deadline == dt.date(2027, 1, 25)
    assert any("截止日期已改为 2027-01-25" in s.value for s in at.success)


@pytest.mark.signed_in_as("领导")
def test_a_leader_has_neither_page(snapshot):  # noqa: F811
    for url_path in ("filing", "filing_review"):
        at = open_app(url_path)
        assert any("没有打开" in w.value for w in at.warning)
