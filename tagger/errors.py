"""Errors tagger raises.

The library never prints or exits: it raises one of these, and only the CLI turns
them into a red line and an exit code. Every message is meant to be read by an ops
person, so it names the file, sheet, Excel row and column and says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where in an input a problem sits; every part is optional.

    >>> str(Location(Path("users.xlsx"), "明细", 5, "注册时间", "D"))
    "users.xlsx, sheet '明细', row 5, column D '注册时间'"
    """

    file: Path | str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    letter: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(Path(self.file).name)
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None or self.letter is not None:
            col = "column"
            if self.letter:
                col += f" {self.letter}"
            if self.column is not None:
                col += f" '{self.column}'"
            parts.append(col)
        return ", ".join(parts)


class TaggerError(Exception):
    """Base of every error tagger raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, where: Location | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where and str(where) else message)


class InputError(TaggerError):
    """The export (or another input file) cannot be used as it is."""

    exit_code = 2


class ConfigError(TaggerError):
    """The configuration or a preset is invalid."""

    exit_code = 2


class HistoryError(TaggerError):
    """The history database refused an operation (e.g. a month already imported)."""

    exit_code = 2


class OutputError(TaggerError):
    """An output file could not be written safely (no space, no permission, the file is open).

    That is the environment, not a bug: exit 2 like every other user error.
    """

    exit_code = 2
