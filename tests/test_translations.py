"""The French catalog (locale/fr/LC_MESSAGES/django.po) is complete: every string marked for
translation in the templates and the Python code has a French text, none is fuzzy, none is
left over. A new English string without its translation fails here (and in CI).

`makemessages` runs on a copy of the sources with a copy of the catalog, so the checkout is
never written; GNU gettext (msgmerge, msgfmt) must be installed, as for `make install`.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

CATALOG = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
# What makemessages reads: the console's templates and the Python packages.
SOURCES = ("templates", "lmsbridge", "integrations", "catalog", "shared")


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file (the header aside): msgid, msgid_plural, msgstr list, flags,
    and whether the entry is obsolete (#~). Plain gettext syntax, as msgmerge writes it."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": [], "obsolete": False}
        field = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
                line = line[2:].strip()
                if not line:
                    continue
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[field][-1] += ast.literal_eval(line)
            else:
                key, value = line.split(" ", 1)
                field = "msgstr" if key.startswith("msgstr") else key
                entry.setdefault(field, [])
                entry[field].append(ast.literal_eval(value))
        if entry.get("msgid") == [""]:
            continue  # the header
        entries.append(
            {
                "msgid": "".join(entry.get("msgid", [])),
                "plural": "".join(entry.get("msgid_plural", [])),
                "msgstr": entry["msgstr"],
                "flags": entry["flags"],
                "obsolete": entry["obsolete"],
            }
        )
    return entries


def problems(entries: list[dict]) -> list[str]:
    found = []
    for entry in entries:
        label = repr(entry["msgid"])
        if entry["obsolete"]:
            found.append(f"left over (no longer in the sources): {label}")
        elif "fuzzy" in entry["flags"]:
            found.append(f"fuzzy: {label}")
        elif not entry["msgstr"] or not all(entry["msgstr"]):
            found.append(f"not translated: {label}")
    return found


def test_the_committed_catalog_has_no_fuzzy_and_no_empty_entry():
    entries = read_po(CATALOG)
    assert entries, "the French catalog is empty"
    assert problems(entries) == []


@pytest.mark.skipif(shutil.which("msgmerge") is None, reason="GNU gettext is not installed")
def test_makemessages_finds_no_string_the_catalog_does_not_translate(tmp_path, monkeypatch):
    """Run makemessages over a copy of the sources, merging into a copy of the catalog: every
    msgid it finds must already be translated (a new one comes out with an empty msgstr, or
    fuzzy when gettext guesses from a similar one)."""
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "migrations")
    for name in SOURCES:
        shutil.copytree(root / name, copy / name, ignore=skip)
    locale = copy / "locale"
    (locale / "fr" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(CATALOG, locale / "fr" / "LC_MESSAGES" / "django.po")
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[locale]):
        call_command("makemessages", locale=["fr"], verbosity=0)
    merged = read_po(locale / "fr" / "LC_MESSAGES" / "django.po")
    assert problems(merged) == [], (
        "run `manage.py makemessages -l fr --ignore .venv --ignore var --ignore node_modules` "
        "and translate the new entries of locale/fr/LC_MESSAGES/django.po"
    )
    committed = {entry["msgid"] for entry in read_po(CATALOG)}
    assert {entry["msgid"] for entry in merged if not entry["obsolete"]} == committed


def test_a_new_untranslated_string_is_caught(tmp_path):
    """The check itself: an entry as makemessages adds it (empty msgstr) is reported."""
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: fr\\n"\n\n'
        '#: templates/home.html:3\nmsgid "Your groups"\nmsgstr "Vos groupes"\n\n'
        '#: templates/home.html:4\nmsgid "A new sentence"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "A guess"\nmsgstr "Une supposition"\n',
        encoding="utf-8",
    )
    assert problems(read_po(po)) == ["not translated: 'A new sentence'", "fuzzy: 'A guess'"]
