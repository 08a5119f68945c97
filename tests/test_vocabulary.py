"""Every standalone text is defined once, and every catalog is named by the one convention.

A word shown in many places (人数, 月份, a segment's name) is written in one catalog, the
vocabulary (``tagger/vocabulary.py``), the segment registry or the module that owns it; any other
catalog that shows it holds that same mapping (``word("users")``, ``Catalog.shared``). So a
second definition is a second mapping object with the same Chinese and English, which is what
these tests look for.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections import defaultdict
from pathlib import Path

import tagger
from tagger import columns, vocabulary
from tagger.i18n import CATALOGS
from tagger.registry import REGISTRY
from tagger.workbook import labels


def _import_everything() -> None:
    """Catalogs register themselves on import, so load every tagger module first."""
    for module in pkgutil.walk_packages(tagger.__path__, prefix="tagger."):
        if not module.name.endswith("__main__"):  # __main__ would run the CLI on pytest's argv
            importlib.import_module(module.name)


_import_everything()

# (zh, en) texts that may be defined more than once because they truly differ by context.
# Empty: nothing needs it today. Add an entry only with a comment saying why the two must be able to part.
ALLOWED_TWICE: set[tuple[str, str]] = set()

# What a module's catalog is called: TEXT, or for a second catalog of another kind, what it holds.
CATALOG_NAMES = {
    "TEXT",  # the module's own texts
    "HELP",  # command-line help (tagger/cli.py, tagger/commands/*)
    "OPTIONS",  # help of the options several commands share (tagger/commands/common.py)
    "PARSER",  # argparse's own words (tagger/commands/common.py)
    "STEPS",  # the pipeline's progress steps (tagger/commands/common.py)
    "SHEETS",  # sheet names
    "HEADINGS",  # the workbook's column headings (tagger/workbook/labels.py)
    "COMMENTS",  # comments written into a project's config (tagger/project.py)
}


def definitions() -> dict[tuple[str, str], dict[int, list[str]]]:
    """Each (zh, en) text, by the mapping objects that hold it, with the catalog.key of each holder."""
    found: dict[tuple[str, str], dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, catalog in CATALOGS.items():
        for key, texts in catalog.texts.items():
            found[(texts["zh"], texts["en"])][id(texts)].append(f"{name}.{key}")
    return found


def test_no_standalone_text_is_defined_twice() -> None:
    twice = {text: sorted(holders.values()) for text, holders in definitions().items()
             if len(holders) > 1 and text not in ALLOWED_TWICE}
    assert not twice, "defined more than once (use tagger.vocabulary.word or Catalog.shared instead):\n" + "\n".join(
        f"  {zh} / {en}: {places}" for (zh, en), places in twice.items())


def test_a_second_definition_is_caught() -> None:
    from tagger.i18n import Catalog

    Catalog("test_vocabulary_copy", {"count": {"zh": "人数", "en": "Users"}})
    try:
        assert len(definitions()[("人数", "Users")]) == 2
    finally:
        del CATALOGS["test_vocabulary_copy"]


def test_shared_words_are_held_not_copied() -> None:
    assert labels.HEADINGS.texts["count"] is vocabulary.TEXT.texts["users"]
    assert labels.HEADINGS.texts["awaken_rate"] is vocabulary.TEXT.texts["awaken_rate"]
    # A strategy sheet named like its segment holds the registry's label.
    assert labels.SHEETS.texts["g_dormant"] is REGISTRY["dormant"].label
    assert CATALOGS["forecast_sheet"].texts["churned"] is REGISTRY["churned"].label


def test_field_labels_are_a_catalog() -> None:
    assert columns.FIELD_LABELS is CATALOGS["fields"].texts
    assert columns.TEXT("user_id", lang="en") == columns.FIELD_LABELS["user_id"]["en"] == "user ID"


def test_catalogs_are_named_by_the_convention() -> None:
    package = Path(tagger.__file__).parent
    odd = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Name) and node.value.func.id == "Catalog"):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                odd += [f"{path.relative_to(package)}: {t.id}" for t in targets
                        if isinstance(t, ast.Name) and t.id not in CATALOG_NAMES]
    assert not odd, odd
