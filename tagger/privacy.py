"""``--mask-pii``: mask mainland phone and ID-card numbers in everything tagger writes.

Phones keep the first three and last four digits (``138****8000``, ``+86 138****8000``);
ID-card numbers keep the six-digit region and the last four (``110101********1234``).
The user-ID column is never masked: it is the key that matches users across months,
refreshes and the history database. Columns are searched as a whole first (their text
joined once), so only columns that hold such numbers are masked cell by cell.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

import pandas as pd

__all__ = ["mask_text", "mask_frame"]

_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9])((?:\+?86[-\s]?)?1[3-9]\d)[-\s]?\d{4}[-\s]?(\d{4})(?![0-9])")


def mask_text(text: str) -> str:
    """``text`` with phone and ID-card numbers masked.

    >>> mask_text("手机 13800138000，+86 138 0013 8000，身份证 110101199003071234、11010119900307123X")
    '手机 138****8000，+86 138****8000，身份证 110101********1234、110101********123X'
    """
    text = _ID_CARD.sub(lambda m: f"{m[1]}{'*' * 8}{m[2]}", text)
    return _PHONE.sub(lambda m: f"{m[1]}****{m[2]}", text)


def _has_pii(text: str) -> bool:
    return bool(_ID_CARD.search(text) or _PHONE.search(text))


def mask_frame(frame: pd.DataFrame, keep: AbstractSet[str] = frozenset()) -> list[str]:
    """Mask every cell of ``frame`` (in place) except the columns in ``keep``; returns the columns masked.

    Numbers that are phone numbers (11 digits starting 13-19) become masked text.
    """
    masked: list[str] = []
    for column in frame.columns:
        if column in keep or frame[column].dtype != object:
            continue
        values = frame[column].to_numpy()
        texts = [v for v in values if type(v) is str]
        numbers = [v for v in values if type(v) in (int, float) and 1.3e10 <= v < 2e10 and float(v).is_integer()]
        if not numbers and not (texts and _has_pii("\n".join(texts))):
            continue
        out = values.copy()
        for i, value in enumerate(values):
            if type(value) is str:
                out[i] = mask_text(value)
            elif type(value) in (int, float) and 1.3e10 <= value < 2e10 and float(value).is_integer():
                out[i] = mask_text(str(int(value)))
        frame[column] = pd.Series(out, index=frame.index, dtype=object)
        masked.append(str(column))
    return masked
