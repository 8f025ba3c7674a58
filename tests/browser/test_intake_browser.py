"""Browser intake in real Chromium (issue 16): a 营商办 account uploads an export on the 数据 page,
reads the dry run, confirms, watches the load job, sees the result and its job in the history,
and undoes it — the warehouse is then what it was before. Screenshots of each step land in
tests/artifacts/ (and in $BIZENV_SHOTS when set)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from etl.load import load_files
from kpi import store
from kpi.settings import DataDir

pytestmark = pytest.mark.browser

APPROVALS = "办件编号,事项编码,所属区县,受理时间,办结时间,办件状态,法定时限,承诺时限"


def write(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


@pytest.fixture(scope="module")
def app(start_app, tmp_path_factory):
    data = tmp_path_factory.mktemp("intake-data")
    first = write(
        tmp_path_factory.mktemp("intake-first") / "办件_第一批.csv",
        [
            APPROVALS,
            "BJ1,SX0101,柯城区,2026-07-01 09:00,2026-07-02 09:00,已办结,15,1",
            "BJ2,SX0801,江山市,2026-07-01 09:00,,办理中,30,1",
        ],
    )
    load_files([first], data_dir=DataDir.of(data))
    return start_app(data)


def settle(page, text: str, timeout: int = 90_000) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)
    page.wait_for_timeout(600)


def shoot(page, artifacts, name: str) -> None:
    height = page.evaluate("""() => { const b = document.querySelector('[data-testid="stMainBlockContainer"]');
                                      return b ? b.scrollHeight + 120 : 900 }""")
    page.set_viewport_size({"width": 1440, "height": min(int(height), 5000)})
    page.wait_for_timeout(400)
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    if os.environ.get("BIZENV_SHOTS"):
        Path(os.environ["BIZENV_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["BIZENV_SHOTS"]) / path.name)


def records(data: Path):
    con = store.connect_warehouse_readonly(DataDir.of(data))
    try:
        return con.execute("SELECT case_id, status, version FROM approvals ORDER BY 1").fetchall()
    finally:
        con.close()


def test_upload_dry_run_load_and_undo(app, browser, artifacts, tmp_path):
    before = records(app.data_dir)
    upload = write(
        tmp_path / "办件_第二批.csv",
        [
            APPROVALS,
            "BJ2,SX0801,江山市,2026-07-01 09:00,2026-07-09 10:00,已办结,30,1",
            "BJ3,SX0101,衢江区,2026-08-01 09:00,,办理中,15,1",
            "BJ4,SX0101,火星区,2026-08-01 09:00,,办理中,15,1",
        ],
    )
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(app.url + "/data_status")
    settle(page, "上传导出文件")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
    settle(page, "办件_第二批.csv")
    shoot(page, artifacts, "intake-1-upload")
    page.get_by_role("button", name="上传并试运行").click()
    settle(page, "试运行结果")
    body = page.locator("body").inner_text()
    assert "尚未写入任何数据" in body
    shoot(page, artifacts, "intake-2-dry-run")
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("运行中", exact=False).or_(
        page.get_by_text("成功", exact=False)
    ).first.wait_for(timeout=60_000)
    shoot(page, artifacts, "intake-3-progress")
    settle(page, "已导入 1 个文件")
    shoot(page, artifacts, "intake-4-result")
    after = records(app.data_dir)
    # by hand: BJ2 updated to 已办结 (version 2), BJ3 new, BJ4 (火星区) quarantined
    assert after == [("BJ1", "已办结", 1), ("BJ2", "已办结", 2), ("BJ3", "办理中", 1)]
    page.get_by_text("任务记录（导入、撤销、重新计算）").click()
    settle(page, "撤销一次导入")
    shoot(page, artifacts, "intake-5-history")
    page.get_by_text("我确认撤销").click()
    page.get_by_role("button", name="撤销所选导入").click()
    settle(page, "已撤销任务")
    shoot(page, artifacts, "intake-6-undo")
    assert records(app.data_dir) == before
    ctx.close()
