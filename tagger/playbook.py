"""Which playbook rows (plays) serve a group: its own, else the ones of the group it borrows from.

The group sheets suggest these plays and ``playbook_rules`` turns them into rules
for a config without ``[[rules]]``; both read the same borrowing here.
"""

from __future__ import annotations

from tagger.config import Config, Play
from tagger.segments import UNSPLIT

# Where a group without its own plays borrows suggestions from.
FALLBACK: dict[str, tuple[str, ...]] = {
    UNSPLIT: ("active",),
    "churned": ("churned_driving", "churned_not_driving"),
    "churned_driving": ("churned",),
    "churned_not_driving": ("churned",),
    "returned": ("awakened",),
    "awakened": ("returned",),
}


def plays_for(config: Config, group: str) -> list[Play]:
    """The group's own plays, else those of the group it borrows from."""
    for key in (group, *FALLBACK.get(group, ())):
        found = [p for p in config.playbook if p.group == key]
        if found:
            return found
    return []


__all__ = ["FALLBACK", "plays_for"]
