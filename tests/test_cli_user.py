"""`bizenv user / kiosk / db` on both backends, and every CLI command in the audit log with the
operating-system user."""

from __future__ import annotations

import getpass
import io
import json

import pytest
import sqlalchemy as sa

from etl.cli import main
from office import accounts, store
from office.models import AuditEvent

PASSWORD = "Bizenv-口令-2026"


def _stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text + "\n"))


def _events(dd, action=None):
    with store.session(dd) as s:
        q = sa.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            q = q.where(AuditEvent.action == action)
        return list(s.scalars(q))


def test_user_add_then_sign_in_with_that_password(app_db, monkeypatch, capsys):
    _stdin(monkeypatch, PASSWORD)
    code = main(["user", "add", "wang", "--role", "管理员", "--name", "王管理", "--password-stdin"])
    assert code == 0 and capsys.readouterr().out == "已新建账号 wang（管理员）。\n"
    assert accounts.authenticate(app_db, "wang", PASSWORD).principal.role.value == "admin"
    [made] = _events(app_db, "account_create")
    assert (made.actor, made.via, made.os_user) == (getpass.getuser(), "cli", getpass.getuser())


def test_a_district_is_given_by_code_or_name(app_db, monkeypatch, capsys):
    _stdin(monkeypatch, PASSWORD)
    assert (
        main(["user", "add", "kc", "--role", "区县", "--district", "柯城区", "--password-stdin"])
        == 0
    )
    assert accounts.find(app_db, "kc").district_code == "330802"
    assert (
        main(
            [
                "user",
                "add",
                "x",
                "--role",
                "区县",
                "--district",
                "火星区",
                "--no-password",
                "--email",
                "x@e.cn",
            ]
        )
        == 2
    )
    assert "目录中没有区县“火星区”" in capsys.readouterr().err


def test_user_list_set_role_disable_enable(app_db, monkeypatch, capsys):
    _stdin(monkeypatch, PASSWORD)
    main(["user", "add", "zhang", "--role", "营商办", "--name", "张三", "--password-stdin"])
    token = accounts.authenticate(app_db, "zhang", PASSWORD).token
    assert (
        main(["user", "set-role", "zhang", "--role", "部门", "--department", "市市场监管局"]) == 0
    )
    assert accounts.resolve(app_db, token).principal is None  # the role change ended the session
    assert main(["user", "disable", "zhang"]) == 0
    assert accounts.authenticate(app_db, "zhang", PASSWORD).token is None
    capsys.readouterr()
    assert main(["user", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "账号\t姓名\t角色\t区县\t部门\t邮箱\t状态",
        "zhang\t张三\t部门\t\t市市场监管局\t\t停用",
    ]
    assert main(["user", "enable", "zhang"]) == 0
    assert accounts.authenticate(app_db, "zhang", PASSWORD).token
    assert [e.action for e in _events(app_db)][:4] == [
        "account_create",
        "login",
        "account_change",
        "account_disable",
    ]


def test_reset_password_unlocks_and_asks_for_a_new_one(app_db, monkeypatch):
    _stdin(monkeypatch, PASSWORD)
    main(["user", "add", "zhang", "--role", "营商办", "--password-stdin"])
    for _ in range(5):
        accounts.authenticate(app_db, "zhang", "wrong-password")
    _stdin(monkeypatch, "Temporary-2026")
    assert main(["user", "reset-password", "zhang", "--password-stdin"]) == 0
    assert accounts.authenticate(app_db, "zhang", "Temporary-2026").principal.must_change_password


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["user", "add", "a", "--role", "科长", "--no-password", "--email", "a@e.cn"],
            "没有角色“科长”",
        ),
        (["user", "add", "a", "--role", "领导", "--no-password"], "请同时给出 --email"),
        (["user", "set-role", "nobody", "--role", "领导"], "没有账号“nobody”"),
        (["user", "disable", "nobody"], "没有账号“nobody”"),
        (["user", "reset-password", "nobody", "--password-stdin"], "没有账号“nobody”"),
    ],
)
def test_user_mistakes_are_said_in_chinese(app_db, monkeypatch, capsys, argv, message):
    _stdin(monkeypatch, PASSWORD)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_password_is_never_taken_from_a_pipe_without_being_asked(app_db, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal, no --password-stdin
    assert main(["user", "add", "zhang", "--role", "营商办"]) == 2
    assert "--password-stdin" in capsys.readouterr().err


def test_kiosk_add_list_revoke(app_db, capsys):
    assert main(["kiosk", "add", "--label", "大厅一号屏", "--url", "http://bizenv:8501/"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "已新建大屏链接 1（大厅一号屏）。只显示这一次："
    assert out[1].startswith("http://bizenv:8501/led?kiosk=")
    token = out[1].split("kiosk=")[1]
    assert accounts.resolve(app_db, token, kind="kiosk").principal.label == "大厅一号屏"
    assert main(["kiosk", "revoke", "1"]) == 0
    assert accounts.resolve(app_db, token, kind="kiosk").principal is None
    capsys.readouterr()
    main(["kiosk", "list"])
    assert capsys.readouterr().out.splitlines()[1].endswith("\t已撤销")


def test_db_upgrade_says_what_it_did(app_db, capsys):
    assert main(["db", "upgrade"]) == 0
    first = capsys.readouterr().out
    assert "已升级到版本 0005（执行了 0001、0002、0003、0004、0005）" in first
    assert main(["db", "upgrade"]) == 0
    assert "已是最新结构（版本 0005）" in capsys.readouterr().out
    assert [e.action for e in _events(app_db)] == ["db_upgrade"]


def test_every_command_is_audited_with_its_os_user_and_a_publish(app_db, tmp_path):
    from tests.fixtures.snapshot_fixture import build_fixture_snapshot

    build_fixture_snapshot(app_db.root)
    assert main(["status"]) == 0
    assert main(["build"]) == 0
    assert main(["export", "--quarantine", "nothing.csv", "--out", str(tmp_path / "q.csv")]) != 0
    events = [(e.action, e.object, e.outcome, e.os_user) for e in _events(app_db)]
    me = getpass.getuser()
    assert events[0] == ("command", "status", "ok", me)
    assert events[1] == ("build", "build", "ok", me)
    assert events[2][0] == "publish" and events[2][1].startswith("snapshot-")
    assert events[3][:3] == ("command", "export", "failed")
    details = json.loads(_events(app_db, "build")[0].details)
    assert details == {"命令": "bizenv build", "退出码": 0}


def test_reset_demo_removes_the_demo_accounts(app_db, capsys):
    accounts.ensure_demo_accounts(app_db, ("330802", "柯城区"), "市市场监管局")
    from tests.fixtures.snapshot_fixture import build_fixture_snapshot

    build_fixture_snapshot(app_db.root)  # a warehouse without demo records
    assert main(["reset", "--demo"]) == 0
    assert capsys.readouterr().out == "已删除 6 个演示账号。\n"
    assert accounts.list_accounts(app_db) == []


def test_a_refused_first_load_leaves_no_data_dir_and_no_app_db(isolated_data_dir, tmp_path):
    bad = tmp_path / "空.csv"
    bad.write_text("", encoding="utf-8")
    assert main(["load", str(bad)]) != 0
    assert not isolated_data_dir.exists()
