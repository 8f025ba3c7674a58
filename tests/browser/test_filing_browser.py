"""A whole 在线指标填报 round in real Chromium against a real server: 营商办 opens the quarter's round,
市人力社保局 types 分子 and 分母 for its six districts and submits, 营商办 returns one row with a
comment, the department sees it, corrects it and resubmits, 营商办 approves — and the new snapshot
scores the approved figures (the city's value Σ 分子 ÷ Σ 分母, worked out by hand below). Also the
sparse states: no round yet, a department that owns nothing to file, a role without the pages.
Screenshots of every step land in tests/artifacts/filing_*.png (and BIZENV_SHOTS_DIR if set).
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from kpi import periods
from kpi import store as kstore
from kpi.settings import DataDir
from tests import signin
from tests.browser.conftest import ARTIFACTS, using_app_db
from ui import auth

pytestmark = pytest.mark.browser

VIEW = {"width": 1440, "height": 900}
RS = "市人力社保局"
KEY = "lm_arbitration_closing_rate"
ROWS = ["330802", "330803", "330822", "330824", "330825", "330881"]  # the page's district order
TYPED = [(45, 50), (27, 30), (19, 20), (30, 40), (12, 12), (8, 10)]  # 审结数, 应结数 per row
NUM_X, DEN_X = 740, 820  # centres of the 分子 / 分母 columns (ui.filing's fixed widths)
ROW_H = 35


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A warehouse holding last quarter's filing of the same indicator (so 上季度值 shows)."""
    from etl.load import load_files

    root = tmp_path_factory.mktemp("filing") / "warehouse"
    prev = periods.previous(periods.current_period())
    path = root.parent / f"上季度_{prev}.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["所属区县", "统计期", "指标编码", "分子", "分母", "填报单位"])
        for code in ROWS:
            w.writerow([code, prev, KEY, 18, 20, RS])
    load_files([path], source="reports", data_dir=root)
    return root


@pytest.fixture(scope="module")
def app(start_app, data_dir):
    return start_app(data_dir)


def _context(browser, app_db_url, data_dir, role: str | None, **binding):
    """A browser context signed in as a test account of `role` (None: the session's 营商办)."""
    if role is None:
        return browser.new_context(viewport=VIEW, locale="zh-CN", accept_downloads=True)
    with using_app_db(app_db_url):
        token = signin.token_for(role, data_dir=DataDir.of(data_dir), **binding)
    ctx = browser.anonymous_context(viewport=VIEW, locale="zh-CN", accept_downloads=True)
    ctx.add_cookies([{"name": auth.COOKIE, "value": token, "url": "http://127.0.0.1"}])
    return ctx


def settle(page, text: str) -> None:
    try:
        page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "filing_failed.png"), full_page=True)
        raise
    idle(page)


def idle(page) -> None:
    page.wait_for_timeout(400)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(600)


def chosen(page) -> list[str]:
    """What each selectbox on the page shows."""
    boxes = page.locator('[data-testid="stSelectbox"]')
    return [boxes.nth(i).inner_text().split("\n")[-1] for i in range(boxes.count())] + list(
        boxes.locator("input").evaluate_all("els => els.map(e => e.value)")
    )


def shoot(page, artifacts, name: str) -> None:
    height = page.evaluate("""() => { const b = document.querySelector('[data-testid="stMainBlockContainer"]');
                                      return b ? b.scrollHeight + 120 : 900 }""")
    page.set_viewport_size({"width": 1440, "height": min(max(int(height), 900), 4000)})
    page.wait_for_timeout(500)
    target = artifacts / f"filing_{name}.png"
    page.screenshot(path=str(target), full_page=True)
    page.set_viewport_size(VIEW)
    extra = os.environ.get("BIZENV_SHOTS_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(target, Path(extra) / target.name)


def _cell_text(grid, col: int, row: int) -> str:
    return grid.locator(f"td[id='glide-cell-{col}-{row}']").first.inner_text().strip()


def fill(page, grid, x: int, col: int, row: int, value: int) -> None:
    """Type `value` into a cell of the data editor (a canvas): double-click opens its editor;
    the grid's accessible mirror (td#glide-cell-col-row) tells whether it took."""
    box = grid.bounding_box()
    # the upper part of the cell: the horizontal scrollbar shows over the last row on hover
    y = box["y"] + ROW_H * (row + 1) + 9
    for attempt in range(4):
        if attempt % 2 == 0:  # open the cell's editor, replace what it holds
            page.mouse.dblclick(box["x"] + x, y)
            page.wait_for_timeout(500)
            page.keyboard.press("ControlOrMeta+A")
        else:  # select the cell and type over it (Glide's type-to-edit)
            page.mouse.click(box["x"] + x, y)
            page.wait_for_timeout(400)
        page.keyboard.type(str(value))
        page.wait_for_timeout(200)
        page.keyboard.press("Enter")
        page.wait_for_timeout(500)
        if _cell_text(grid, col, row) == str(value):
            return
        page.keyboard.press("Escape")
    raise AssertionError(f"cell {col},{row} did not take {value}: {_cell_text(grid, col, row)!r}")


def test_sparse_states(browser, app, app_db_url, data_dir, artifacts):
    # no round yet: the department is told so, the office is offered to open one
    ctx = _context(browser, app_db_url, data_dir, "部门", department=RS)
    page = ctx.new_page()
    page.goto(app.url + "/filing")
    settle(page, "目前没有正在进行的填报轮次")
    shoot(page, artifacts, "0_department_no_round")
    ctx.close()
    ctx = _context(browser, app_db_url, data_dir, None)
    page = ctx.new_page()
    page.goto(app.url + "/filing_review")
    settle(page, "还没有填报轮次")
    assert page.get_by_role("button", name="开启填报").is_visible()
    shoot(page, artifacts, "0_office_no_round")
    page.goto(app.url + "/filing")  # 营商办 does not file
    settle(page, "没有打开")
    ctx.close()
    # a department that owns no filed indicator
    ctx = _context(browser, app_db_url, data_dir, "部门", department="市商务局")
    page = ctx.new_page()
    page.goto(app.url + "/filing")
    settle(page, "没有需要在线填报的指标")
    shoot(page, artifacts, "0_department_nothing_owned")
    ctx.close()
    # 管理员 reviews like 营商办
    ctx = _context(browser, app_db_url, data_dir, "管理员")
    page = ctx.new_page()
    page.goto(app.url + "/filing_review")
    settle(page, "开启新的填报轮次")
    shoot(page, artifacts, "0_admin_review_page")
    ctx.close()
    # 领导 and 区县 have neither page
    for role, binding in (("领导", {}), ("区县", {"district": "330802"})):
        ctx = _context(browser, app_db_url, data_dir, role, **binding)
        page = ctx.new_page()
        for path in ("/filing", "/filing_review"):
            page.goto(app.url + path)
            settle(page, "没有打开")
            assert page.locator('[data-testid="stDataFrame"]').count() == 0
        shoot(page, artifacts, f"0_{'leader' if role == '领导' else 'district'}_denied")
        ctx.close()


def test_a_round_from_opening_to_the_scores(browser, app, app_db_url, data_dir, artifacts):
    period = periods.current_period()
    office_ctx = _context(browser, app_db_url, data_dir, None)
    office = office_ctx.new_page()
    dept_ctx = _context(browser, app_db_url, data_dir, "部门", department=RS)
    dept = dept_ctx.new_page()

    # 1. 营商办 opens the round for the current quarter (deadline: the metrics.yaml rule)
    office.goto(app.url + "/filing_review")
    settle(office, "开启新的填报轮次")
    office.locator('[data-testid="stSelectbox"]').filter(has_text="统计期").click()
    office.get_by_role("option", name=periods.label_zh(period)).click()
    idle(office)
    office.get_by_role("button", name="开启填报").click()
    settle(office, f"已开启{periods.label_zh(period)}的填报")
    shoot(office, artifacts, "1_office_opened")

    # 2. the department sees its six districts with last quarter's value, types, submits
    dept.goto(app.url + "/filing")
    settle(dept, "待填报")
    grid = dept.locator('[data-testid="stDataFrame"]').first
    assert [_cell_text(grid, 0, r) for r in range(6)] == [
        "柯城区",
        "衢江区",
        "常山县",
        "开化县",
        "龙游县",
        "江山市",
    ]
    assert _cell_text(grid, 4, 0) == "90"  # 上季度值: 18 ÷ 20 × 100
    for row, (num, den) in enumerate(TYPED):
        fill(dept, grid, NUM_X, 6, row, num)
        fill(dept, grid, DEN_X, 7, row, den)
    shoot(dept, artifacts, "2_department_typed")
    # 佐证材料 for 柯城区's row (the first in the row picker); the typed figures are kept as a draft first
    dept.get_by_role("button", name="保存草稿").click()
    settle(dept, "已保存草稿（6 行有改动）")
    evidence = data_dir.parent / "柯城区仲裁结案统计表.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% bizenv evidence\n")
    dept.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(evidence))
    idle(dept)
    dept.get_by_role("button", name="上传", exact=True, disabled=False).first.click()
    settle(dept, "已上传“柯城区仲裁结案统计表.pdf”")
    shoot(dept, artifacts, "2_department_attached")
    dept.get_by_role("button", name="提交审核").click()
    settle(dept, "已提交 6 行")
    shoot(dept, artifacts, "2_department_submitted")

    # 3. 营商办 returns 柯城区's row with a comment
    office.goto(app.url + "/filing_review")
    settle(office, "退回意见")
    assert RS in chosen(office)
    assert office.get_by_text(f"{RS}待审核 6 行").first.is_visible()
    table = office.locator('[data-testid="stDataFrame"]').first
    box = table.bounding_box()
    for _ in range(3):
        office.mouse.click(box["x"] + 25, box["y"] + ROW_H + ROW_H // 2)
        office.wait_for_timeout(800)
        if _cell_text(table, 0, 0) == "true":
            break
    assert _cell_text(table, 0, 0) == "true"
    idle(office)
    assert office.get_by_text("柯城区仲裁结案统计表.pdf").first.is_visible()  # the evidence
    office.get_by_label("退回意见（退回时必填，部门会看到）").fill("应结案件数应为 55，请核对")
    office.get_by_role("button", name="退回所选").click()
    settle(office, "已退回 1 行")
    shoot(office, artifacts, "3_office_returned_one_row")

    # 4. the department sees the comment, corrects 应结数 and resubmits
    dept.goto(app.url + "/filing")
    settle(dept, "应结案件数应为 55，请核对")
    grid = dept.locator('[data-testid="stDataFrame"]').first
    assert _cell_text(grid, 0, 0) == "柯城区"  # the only row to change again
    shoot(dept, artifacts, "4_department_sees_the_comment")
    fill(dept, grid, DEN_X, 7, 0, 55)
    dept.get_by_role("button", name="提交审核").click()
    settle(dept, "已提交 1 行")
    shoot(dept, artifacts, "4_department_resubmitted")

    # 5. 营商办 approves the whole submission: the figures are loaded and the scores rebuilt
    before = kstore.current_snapshot_path(DataDir.of(data_dir))
    office.goto(app.url + "/filing_review")
    settle(office, "退回意见")
    assert RS in chosen(office)
    assert office.get_by_text(f"{RS}待审核 6 行").first.is_visible()
    office.get_by_role("button", name="整份通过").click()
    settle(office, "已入库：6 行审核通过的数据")
    shoot(office, artifacts, "5_office_approved_and_published")
    office.get_by_role("tab", name="填报情况").click()
    idle(office)
    shoot(office, artifacts, "6_office_status_board")
    office.get_by_role("tab", name="催报名单").click()
    idle(office)
    shoot(office, artifacts, "6_office_reminders")

    after = kstore.current_snapshot_path(DataDir.of(data_dir))
    assert after is not None and after != before
    # the write was a job of its own (one writer, its own process), recorded with who asked
    from office import jobs
    from tests.browser.conftest import using_app_db

    with using_app_db(app_db_url):
        done = [j for j in jobs.recent(DataDir.of(data_dir)) if j.kind == "filing"]
    assert [(j.status, j.summary["lines"]) for j in done] == [(jobs.SUCCEEDED, 6)]
    con = kstore.connect_snapshot(after)
    try:
        values = dict(
            con.execute(
                "SELECT district_code, value FROM indicator_scores "
                "WHERE indicator_key = ? AND period = ?",
                [KEY, period],
            ).fetchall()
        )
    finally:
        con.close()
    assert values["330802"] == pytest.approx(45 / 55 * 100)  # the corrected row
    assert values["330824"] == pytest.approx(30 / 40 * 100)
    # the city: (45 + 27 + 19 + 30 + 12 + 8) ÷ (55 + 30 + 20 + 40 + 12 + 10) × 100
    assert values["330800"] == pytest.approx(141 / 167 * 100)

    dept.goto(app.url + "/filing")
    settle(dept, "已通过")
    shoot(dept, artifacts, "7_department_all_approved")
    office_ctx.close()
    dept_ctx.close()
