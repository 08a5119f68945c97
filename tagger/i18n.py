"""Chinese and English text for messages, labels and sheet names.

Ops staff read Chinese; some teams and all logs read English. Each module keeps
its own :class:`Catalog` next to the code that uses it, so a message and the
condition that raises it are read together. The language is process-wide (like
gettext): the CLI sets it once from ``--lang`` or the config, and a run
(:func:`tagger.pipeline.run`, ``check``, ``refresh``) speaks its own inside
:func:`language` and gives the caller's back afterwards.

>>> demo = Catalog("demo", {"hello": {"zh": "你好，{name}", "en": "Hello, {name}"}})
>>> set_language("en"); demo("hello", name="ops")
'Hello, ops'
>>> set_language("zh"); demo("hello", name="运营")
'你好，运营'
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

LANGUAGES: tuple[str, ...] = ("zh", "en")
_current = "zh"
CATALOGS: dict[str, Catalog] = {}


def set_language(lang: str) -> None:
    """Choose the language of every message and label from now on."""
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    _current = lang


def get_language() -> str:
    return _current


@contextmanager
def language(lang: str) -> Iterator[str]:
    """Speak ``lang`` inside the block and the language before it afterwards.

    A run (``tag``, ``check``, ``refresh``) chooses its language once, from
    ``--lang`` or the config, and must not leave it behind for whoever calls next.

    >>> set_language("zh")
    >>> with language("en"):
    ...     get_language()
    'en'
    >>> get_language()
    'zh'
    """
    before = _current
    set_language(lang)
    try:
        yield lang
    finally:
        set_language(before)


class Catalog:
    """A named set of texts, each given in every language."""

    def __init__(self, name: str, texts: Mapping[str, Mapping[str, str]]) -> None:
        self.name = name
        self.texts: dict[str, Mapping[str, str]] = dict(texts)
        CATALOGS[name] = self

    def __call__(self, key: str, /, lang: str | None = None, **values: object) -> str:
        text = self.texts[key][lang or _current]
        return text.format(**values) if values else text

    def all(self, key: str) -> dict[str, str]:
        """The text in every language (e.g. to accept either as input)."""
        return dict(self.texts[key])

    def shared(self, key: str) -> Mapping[str, str]:
        """The text itself, for another catalog to hold under its own key without writing it again.

        A word said in many places (人数, 月份) is defined once; a catalog that shows it holds this
        same object, so tests/test_vocabulary.py can tell a reference from a second definition.

        >>> words = Catalog("demo_words", {"greeting": {"zh": "早上好", "en": "Good morning"}})
        >>> sheet = Catalog("demo_sheet", {"title": words.shared("greeting")})
        >>> sheet("title", lang="en"), sheet.texts["title"] is words.texts["greeting"]
        ('Good morning', True)
        """
        return self.texts[key]


def placeholders(text: str) -> set[str]:
    """Names used in ``{}`` fields, to check the languages agree."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
