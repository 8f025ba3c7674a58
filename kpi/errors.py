"""bizenv's exceptions: a user error becomes one clear Chinese message and a non-zero exit."""

from __future__ import annotations

from pathlib import Path


class BizenvError(Exception):
    """Base class. `str(err)` is the whole message a user sees (Chinese, with the fix)."""

    exit_code = 1


class UserInputError(BizenvError):
    """Bad input the user can fix: a file, an option, a spec."""

    exit_code = 2


class FileRefused(UserInputError):
    """A file that cannot be used at all (unreadable, wrong type, required columns missing, no data)."""

    # a folder load refuses some files and loads the others: every file's report rides along
    reports: list = []


class NotAnExport(FileRefused):
    """The file is no export of any source (a README, a picture, a taxonomy sheet): a folder load
    skips it with a note; named on its own it is refused."""


class SpecError(UserInputError):
    """metrics.yaml (or another spec) is invalid; the message lists every problem at once."""

    def __init__(self, problems: list[str], path: str = "metrics.yaml"):
        self.problems = list(problems)
        self.path = path
        lines = [f"{path} 有 {len(self.problems)} 处问题："] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class MachineProblem(BizenvError):
    """The machine, not the input: a full disk, no write permission, a busy data dir."""

    exit_code = 3


NO_SPACE = ("no space left on device", "disk full", "not enough space", "errno 28")
NO_RIGHTS = ("permission denied", "read-only file system", "errno 13", "errno 30")


def machine_problem(err: BaseException, where: Path | str | None = None) -> str | None:
    """What a full disk or missing write permission means, in Chinese (with the path and the free
    space), or None when `err` is neither. DuckDB reports both as IOException text; the OS as
    OSError errno 28 / 13 / 30."""
    import errno
    import shutil

    text = str(err).lower()
    code = getattr(err, "errno", None)
    place = Path(where) if where is not None else None
    if code == errno.ENOSPC or any(s in text for s in NO_SPACE):
        free = ""
        if place is not None:
            probe = place if place.exists() else place.parent
            try:
                free = f"，剩余 {shutil.disk_usage(probe).free / 2**20:,.0f} MB"
            except OSError:
                pass
        return f"磁盘空间不足（{place or '数据目录'} 所在磁盘{free}）"
    if code in (errno.EACCES, errno.EROFS, errno.EPERM) or any(s in text for s in NO_RIGHTS):
        return f"没有写入权限（{place or '数据目录'}：只读磁盘，或当前用户不能写入）"
    if "could not set lock" in text or "conflicting lock" in text:
        return (
            "数据仓库正被另一个程序打开（另一个导入或计算正在进行，或有人用 DuckDB 直接打开了"
            "warehouse.duckdb）"
        )
    return None
