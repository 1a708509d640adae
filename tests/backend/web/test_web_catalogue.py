"""Every text the pages show has its French translation: each ``_("...")`` in the
templates, and each ``text("...")``, ``_("...")``, ``Forbidden(..., "...")`` and admin
``Section(...)`` in the web package's code, is a msgid of ``locale/fr/*.po``; and every
French entry keeps the ``{placeholders}`` of its English text."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[3] / "backend" / "web"
TEMPLATE_TEXT = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*[,)]""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _french() -> dict[str, str]:
    entries: dict[str, str] = {}
    for path in sorted((WEB / "locale" / "fr").glob("*.po")):
        with path.open("rb") as po_file:
            for message in read_po(po_file, locale="fr"):
                if message.id and isinstance(message.id, str):
                    entries[message.id] = str(message.string)
    return entries


def _in_templates() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((WEB / "templates").rglob("*.html")):
        for match in TEMPLATE_TEXT.finditer(path.read_text()):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            found.setdefault(text.replace("\\'", "'").replace('\\"', '"'),
                             str(path.relative_to(WEB)))
    return found


def _in_code() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(WEB.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else (
                node.func.attr if isinstance(node.func, ast.Attribute) else "")
            args = {"text": node.args[:1], "_": node.args[:1], "Forbidden": node.args[1:2],
                    "Section": node.args[1:3]}.get(name, [])
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.setdefault(arg.value, f"{path.relative_to(WEB)}:{node.lineno}")
    return found


def test_every_shown_text_has_a_french_translation() -> None:
    french = _french()
    shown = {**_in_templates(), **_in_code()}
    assert len(shown) > 20
    missing = [f"{where}: {text!r}" for text, where in shown.items()
               if not french.get(text)]
    assert not missing, "no French for:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    wrong = [f"{msgid!r} -> {msgstr!r}" for msgid, msgstr in _french().items()
             if msgstr and set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(msgstr))]
    assert not wrong, wrong
