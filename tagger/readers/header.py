"""Finding the header row among the first rows, and saying what was found when there is none.

Shared by every reader that has to look for the header (workbooks and text
files): the header row is the last of the first run of rows that name every
required field, and the message for a missing header quotes the closest row.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from tagger.columns import (
    DEFAULT_ALIASES,  # noqa: F401 (the doctests below use it)
    FIELD_LABELS,
    REQUIRED_FIELDS,
    column_letter,
    is_header_row,
    match_columns,
    missing_required,
    normalize_header,
)
from tagger.i18n import get_language
from tagger.readers.messages import TEXT

_LIST_LIMIT = 20


def _header_text(value: object) -> str:
    """A header cell as text: ``2024.0`` reads as ``2024``, an empty cell as ``''``.

    >>> _header_text(2024.0), _header_text(None), _header_text(" 注册时间 ")
    ('2024', '', ' 注册时间 ')
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def _find_header(head: Sequence[Sequence[str]], aliases: Mapping[str, Sequence[str]]) -> int | None:
    """0-based index of the header row: the last row of the first run of matching rows.

    In a two-level header whose required columns are merged down across both
    rows, both rows match after merged cells are filled; the lower one names the
    data columns. Data rows never match, so the run ends at the header.

    >>> _find_header([["标题"], ["用户ID", "注册时间", "最近一次活跃时间"], ["1", "2", "3"]], DEFAULT_ALIASES)
    1
    """
    found: int | None = None
    for index, cells in enumerate(head):
        if is_header_row(cells, aliases):
            found = index
        elif found is not None:
            break
    return found


def _no_header_detail(head: Sequence[Sequence[str]], aliases: Mapping[str, Sequence[str]], scan_rows: int) -> str:
    """What the closest row to a header looked like and which required fields it lacks."""
    best: tuple[int, int, int] | None = None
    for index, cells in enumerate(head):
        matched = len(REQUIRED_FIELDS) - len(missing_required(match_columns(cells, aliases)))
        filled = sum(1 for cell in cells if normalize_header(cell))
        if filled and (best is None or (matched, filled) > best[:2]):
            best = (matched, filled, index)
    if best is None:
        return TEXT("no_header_empty", scan=scan_rows, missing=_field_names(REQUIRED_FIELDS))
    cells = head[best[2]]
    found = match_columns(cells, aliases)
    missing = missing_required(found)
    return TEXT(
        "no_header", scan=scan_rows, row=best[2] + 1, seen=_seen_headers(cells), missing=_field_names(missing),
        example=_mapping_example(missing, [c for c in cells if normalize_header(c) and c not in found.values()],
                                 aliases),
    )


def _mapping_example(missing: Sequence[str], unused: Sequence[str], aliases: Mapping[str, Sequence[str]]) -> str:
    """``register_date = "开户时间"``: each missing field with the unused header most like one of its names.

    A header from the user's own row makes the fix a copy; when none is alike, a placeholder says what goes there.
    """
    parts = []
    left = list(dict.fromkeys(unused))
    for name in missing:
        names = [normalize_header(n) for n in (*aliases.get(name, ()), FIELD_LABELS.get(name, {}).get("zh", ""))]
        scored = [(max(difflib.SequenceMatcher(None, normalize_header(h), n).ratio() for n in names if n), h)
                  for h in left]
        score, header = max(scored, default=(0.0, ""))
        if score < 0.4:
            header = TEXT("your_header")
        else:
            left.remove(header)
        parts.append(f'{name} = "{header}"')
    return "; ".join(parts)


def _seen_headers(cells: Sequence[str]) -> str:
    seen = [f"{column_letter(index)} '{cell}'" for index, cell in enumerate(cells) if normalize_header(cell)]
    more = ["…"] if len(seen) > _LIST_LIMIT else []
    return _join(seen[:_LIST_LIMIT] + more)


def _field_names(fields: Sequence[str]) -> str:
    """Required fields by the names ops know (用户ID, 注册时间, …) in the current language."""
    lang = get_language()
    return _join([FIELD_LABELS.get(name, {}).get(lang, name) for name in fields])


def _join(items: Sequence[str]) -> str:
    return ("、" if get_language() == "zh" else ", ").join(items)


def _quoted(names: Sequence[str]) -> str:
    return _join([f"'{name}'" for name in names])


def _sentence_break() -> str:
    return "。" if get_language() == "zh" else ". "
