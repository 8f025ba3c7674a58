"""bizenv's exceptions: a user error becomes one clear Chinese message and a non-zero exit."""

from __future__ import annotations


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


class SpecError(UserInputError):
    """metrics.yaml (or another spec) is invalid; the message lists every problem at once."""

    def __init__(self, problems: list[str], path: str = "metrics.yaml"):
        self.problems = list(problems)
        self.path = path
        lines = [f"{path} 有 {len(self.problems)} 处问题："] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))
