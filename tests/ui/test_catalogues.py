"""The English and French catalogues are complete: every text the kiosk shows has both.

The problem keys are not a list kept by hand: they are collected from the release's
registry of outcomes (``terminal.outcomes.OUTCOMES``) and from the code that can emit
keys (the terminal core, the printer-state driver that names printer problems, the
kiosk's own fallbacks), so a new key without a translation fails here.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[2]
KIOSK = REPO / "kiosk"
KEY = re.compile(r"^[a-z]+(?:_[a-z]+)+$")  # a stable key: printer_jammed
KEY_ARGUMENTS = ("problem", "error", "code")  # where a call hands a key on
# modules whose every snake-case string is a problem key they name
KEY_TABLES = (REPO / "drivers" / "cups" / "printer_state.py",)


def catalogue(language: str) -> dict[str, object]:
    with (KIOSK / "locale" / f"{language}.po").open("rb") as po_file:
        return {str(m.id if isinstance(m.id, str) else m.id[0]): m.string
                for m in read_po(po_file, locale=language) if m.id}


def used_messages() -> set[str]:
    found: set[str] = set()
    for source in KIOSK.glob("*.py"):
        code = source.read_text(encoding="utf-8")
        found |= set(re.findall(r'\btr(?:\.plural)?\(\s*"([^"]+)"', code))
    return found


def _constants(node: ast.AST | None) -> Iterator[str]:
    """The strings an expression can be: "a", x or "a", "a" if c else "b"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _constants(value)
    elif isinstance(node, ast.IfExp):
        yield from _constants(node.body)
        yield from _constants(node.orelse)


def _keys_in(tree: ast.Module) -> Iterator[str]:
    """Strings in the places a key is handed on: ``problem=``/``error=``/``code=``
    arguments (by name, or by position to a function of the module taking them), an
    exception's ``code`` attribute, ``getattr(exc, "code", default)``, an UPPER_CASE
    module constant, and the first argument of a ``...Rejected``/``...Refused`` error."""
    positions: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names = [arg.arg for arg in node.args.args]
            for name in KEY_ARGUMENTS:
                if name in names:
                    positions[node.name] = names.index(name) - (names[:1] == ["self"])
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in KEY_ARGUMENTS:
            yield from _constants(node.value)
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "code" for t in statement.targets):
                    yield from _constants(statement.value)
        elif isinstance(node, ast.Assign) and node in tree.body and all(
                isinstance(t, ast.Name) and t.id.isupper() for t in node.targets):
            yield from _constants(node.value)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name == "getattr" and len(node.args) == 3:
                yield from _constants(node.args[2])
            elif name.endswith(("Rejected", "Refused")) and node.args:
                yield from _constants(node.args[0])
            elif name in positions and len(node.args) > positions[name]:
                yield from _constants(node.args[positions[name]])


def emitted_problem_keys() -> set[str]:
    """Every problem key the terminal core, the printer driver and the kiosk can show."""
    from terminal.outcomes import OUTCOMES
    from terminal.release import FINAL_JOB_STATES, STOPPED_JOB_STATE, _ending_problem

    keys: set[str] = set(OUTCOMES)  # the release's registry of how a job can end
    sources = [p for p in (REPO / "terminal").glob("*.py") if p.name != "fakes.py"]
    for source in [*sources, *KIOSK.glob("*.py")]:
        keys |= set(_keys_in(ast.parse(source.read_text(encoding="utf-8"))))
    for table in KEY_TABLES:
        keys |= {node.value for node in ast.walk(ast.parse(table.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Constant) and isinstance(node.value, str)
                 and KEY.match(node.value)}
    # how a charged job ended: every IPP job state, and one the release stopped following
    for state in (*FINAL_JOB_STATES, STOPPED_JOB_STATE, "processing", "unknown"):
        ending = _ending_problem(state)
        if ending is not None:
            keys.add(ending)
    return {key for key in keys if KEY.match(key)}


def test_both_catalogues_hold_the_same_messages_all_translated() -> None:
    for language in ("en", "fr"):  # a message given twice: the second silently wins
        ids = re.findall(r'^msgid "(.+)"$', (KIOSK / "locale" / f"{language}.po").read_text(
            encoding="utf-8"), flags=re.MULTILINE)
        assert sorted({i for i in ids if ids.count(i) > 1}) == [], language
    english, french = catalogue("en"), catalogue("fr")
    assert set(english) == set(french)
    for messages in (english, french):
        empty = [key for key, text in messages.items()
                 if not text or (isinstance(text, tuple) and not all(text))]
        assert empty == []


def test_every_text_the_kiosk_shows_is_in_the_catalogue() -> None:
    assert used_messages() - set(catalogue("en")) == set()


def test_every_problem_key_the_code_can_emit_is_in_the_catalogue() -> None:
    keys = emitted_problem_keys()
    # the collection itself must see the keys of each kind of source
    assert {"printer_jammed", "job_processing_stopped", "job_not_followed", "release_failed",
            "offline_user_unknown", "price_unavailable", "jobs_unavailable"} <= keys, keys
    english = catalogue("en")
    assert sorted(f"error.{key}" for key in keys if f"error.{key}" not in english) == []


def test_times_are_shown_in_the_kiosk_time_zone_and_language() -> None:
    from kiosk.i18n import Translator

    moment = dt.datetime(2026, 11, 23, 8, 5, tzinfo=dt.UTC)
    assert Translator("fr", "Europe/Paris").datetime(moment) == "23/11/2026 09:05"
    assert Translator("en", "Europe/London").datetime(moment) == "23/11/2026, 08:05"


def test_the_backends_session_refusals_are_translated() -> None:
    """Issue 12 item 9: the refusals a person at the kiosk can meet since user sessions
    and rate limits (a badge refused for the rate, a session expired mid-visit)."""
    from backend.api.deps import STATUS_OF_CODE

    codes = {code for code in STATUS_OF_CODE if code.startswith("session_")}
    codes |= {"rate_limited", "offline_limit_exceeded"}
    for language in ("en", "fr"):
        messages = catalogue(language)
        assert sorted(code for code in codes if f"error.{code}" not in messages) == [], language


def test_every_technician_setting_has_its_label_and_help_in_both_catalogues() -> None:
    """The settings' labels and helps are msgids the terminal's catalogue hands to the
    kiosk as data (not ``tr("...")`` literals the scan above finds): each needs both."""
    from terminal.technician_settings import CATALOGUE

    texts = {text for spec in CATALOGUE for text in (spec.label, spec.help) if text}
    for language in ("en", "fr"):
        messages = catalogue(language)
        missing = sorted(text for text in texts if not messages.get(text))
        assert not missing, f"{language}.po lacks {missing}"
