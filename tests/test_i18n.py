"""Every message and label exists in Chinese and English, with the same placeholders."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tagger
from tagger.i18n import CATALOGS, LANGUAGES, placeholders


def _import_everything() -> None:
    """Catalogs register themselves on import, so load every tagger module first."""
    for module in pkgutil.walk_packages(tagger.__path__, prefix="tagger."):
        if not module.name.endswith("__main__"):  # __main__ would run the CLI on pytest's argv
            importlib.import_module(module.name)


_import_everything()


def test_catalogs_were_found() -> None:
    for name in ("cli", "pipeline", "readers", "wizard", "check", "cmd_check", "cmd_init", "cmd_demo", "project",
                 "help_cli", "help_common", "help_parser", "project_toml", "preset_comments",
                 *(f"help_{command}" for command in ("tag", "check", "init", "demo", "wizard", "refresh", "contacts",
                                                     "sql"))):
        assert name in CATALOGS, name


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_every_key_has_every_language_with_the_same_placeholders(name: str) -> None:
    catalog = CATALOGS[name]
    for key, texts in catalog.texts.items():
        assert set(texts) == set(LANGUAGES), f"{name}.{key} has {sorted(texts)}"
        for lang in LANGUAGES:
            assert isinstance(texts[lang], str), f"{name}.{key}.{lang} is not text"
        fields = {lang: placeholders(texts[lang]) for lang in LANGUAGES}
        assert fields["zh"] == fields["en"], f"{name}.{key}: {fields}"
