"""Which playbook rows (plays) serve a group: its own, else the ones of the group it borrows from.

The group sheets suggest these plays and ``playbook_rules`` turns them into rules
for a config without ``[[rules]]``; both read the same borrowing here.
"""

from __future__ import annotations

from tagger.config import Config, Play
from tagger.registry import REGISTRY

# Where a group without its own plays borrows suggestions from (each entry's ``borrows``).
FALLBACK: dict[str, tuple[str, ...]] = REGISTRY.fallback


def plays_for(config: Config, group: str) -> list[Play]:
    """The group's own plays, else those of the group it borrows from."""
    for key in (group, *FALLBACK.get(group, ())):
        found = [p for p in config.playbook if p.group == key]
        if found:
            return found
    return []


__all__ = ["FALLBACK", "plays_for"]
