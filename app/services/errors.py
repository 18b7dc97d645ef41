"""Domain errors: each carries a clear Chinese message for the resident or staff member."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request; `message` is shown to the user as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing does not exist, or is outside the caller's scope (we do not say which)."""

    def __init__(self, message: str = "没有找到，或您无权查看。"):
        super().__init__(message)


class PermissionDenied(DomainError):
    """The caller may see the thing but not do this to it."""

    def __init__(self, message: str = "您没有权限进行此操作。"):
        super().__init__(message)


class RegisterError(DomainError):
    """A register file was refused; `problems` names each bad row, in Chinese."""

    def __init__(self, problems: list[str]):
        super().__init__("台账导入失败，未写入任何数据：\n" + "\n".join(problems))
        self.problems = problems
