"""The project's exception types. Each carries the file and the place; cli.py turns them into one message."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict


class Place(TypedDict, total=False):
    """Where an error is, as the keyword arguments of an error: one place given to several errors."""

    path: str | Path | None
    line: int | None
    column: int | None
    offset: int | None


class ZhpressError(Exception):
    """Base of every error zhpress reports to a user."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        offset: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        self.offset = offset
        self.hint = hint

    def __reduce__(self) -> tuple[object, ...]:
        """Keep the file and place when the error crosses from a worker process."""
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))

    def where(self) -> str:
        """`file:line:column` or `file (byte N)`, as much as is known."""
        if self.path is None:
            return ""
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        elif self.offset is not None:
            where += f" (byte {self.offset})"
        return where

    def __str__(self) -> str:
        where = self.where()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputError(ZhpressError):
    """Bad input from the user: configuration, manuscripts, fonts, templates. Exit status 2."""

    exit_code = 2


class ConfigError(InputError):
    """book.toml is malformed or names something that does not exist."""


class ManuscriptError(InputError):
    """A manuscript cannot be read or decoded."""


class RenderError(ZhpressError):
    """A profile failed while rendering. Exit status 1."""


class MergeError(RenderError):
    """The parts of a chunked PDF build cannot be merged into the single-pass result."""


class ValidationFailed(ZhpressError):
    """A built file failed validation. Exit status 1."""


class Terminated(KeyboardInterrupt):
    """SIGTERM: the build ends as after Ctrl-C (clean-up included), with exit status 143."""


def _rebuild(cls: type[ZhpressError], message: str, state: dict[str, object]) -> ZhpressError:
    error = cls(message)
    error.__dict__.update(state)
    return error
