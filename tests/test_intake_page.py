"""The 数据 page's 导入数据 (issue 16): offered to 营商办 and 管理员, not to 领导 (who may open the
page), and refused on the server for a role without the LOAD permission whatever the page does."""

from __future__ import annotations

import shutil

import pytest

from kpi.settings import DataDir
from office import intake, jobs, roles
from tests.test_signin_pages import navigation_as_on_a_server, open_app  # noqa: F401 - fixture


@pytest.fixture
def snapshot(fixture_snapshot_dir, isolated_data_dir) -> DataDir:
    isolated_data_dir.mkdir(parents=True)
    shutil.copy(fixture_snapshot_dir / "CURRENT", isolated_data_dir / "CURRENT")
    shutil.copytree(fixture_snapshot_dir / "snapshots", isolated_data_dir / "snapshots")
    return DataDir.of(isolated_data_dir)


def _texts(at) -> str:
    return " ".join(
        [m.value for m in at.markdown]
        + [s.value for s in at.subheader]
        + [c.value for c in at.caption]
        + [str(getattr(b, "label", "")) for b in at.button]
    )


@pytest.mark.usefixtures("navigation_as_on_a_server")
def test_the_office_sees_the_upload(snapshot):
    at = open_app("data_status")
    assert "导入数据" in _texts(at)
    assert "上传并试运行" in _texts(at)


@pytest.mark.usefixtures("navigation_as_on_a_server")
@pytest.mark.signed_in_as("领导")
def test_a_leader_sees_the_data_page_without_the_upload(snapshot):
    at = open_app("data_status")
    assert "导入数据" not in _texts(at) and "上传并试运行" not in _texts(at)
    assert "导入记录" in _texts(at)  # the page itself is there


def test_the_server_refuses_a_load_without_the_permission(snapshot, tmp_path):
    f = tmp_path / "办件.csv"
    f.write_text("办件编号\n", encoding="utf-8")
    for role in (roles.Role.LEADER, roles.Role.DISTRICT, roles.Role.DEPARTMENT):
        with pytest.raises(roles.Denied, match="导入和发布数据"):
            intake.start_load(snapshot, [f], "x", roles.Scope(role), spawn=False)
    with pytest.raises(roles.Denied):
        intake.start_load(snapshot, [f], "x", None, spawn=False)
    assert jobs.recent(snapshot) == []
    # the office may (the job row is made; not run here)
    job_id = intake.start_load(snapshot, [f], "x", roles.Scope(roles.Role.OFFICE), spawn=False)
    assert jobs.get(snapshot, job_id).status == jobs.QUEUED


def test_an_upload_over_the_limit_or_of_another_kind_is_refused(monkeypatch):
    from kpi.errors import UserInputError

    monkeypatch.setenv("BIZENV_MAX_UPLOAD_MB", "1")
    with pytest.raises(UserInputError, match="超过上传上限 1 MB"):
        intake.check_upload("办件.csv", 2 * 1024 * 1024)
    with pytest.raises(UserInputError, match="只能上传 CSV、XLSX 或 XLS"):
        intake.check_upload("办件.exe", 10)
    intake.check_upload("办件.xlsx", 10)
    assert intake.safe_name("../../etc/passwd.csv") == "passwd.csv"
