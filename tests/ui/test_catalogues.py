"""The English and French catalogues are complete: every text the kiosk shows has both."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from babel.messages.pofile import read_po

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"
# the stable problem keys the release workflow and the CUPS driver hand to the screens
PROBLEM_KEYS = (
    "printer_stopped", "printer_jammed", "toner_empty", "paper_empty", "door_open",
    "printer_offline", "printer_not_accepting", "printer_error", "waste_toner_full",
    "tray_missing", "output_full", "release_failed", "insufficient_funds", "internal_error",
    "job_gone", "jobs_unavailable", "job_nothing_printed", "offline_limit_reached",
    "offline_user_unknown", "offline_disabled", "price_unavailable",
)


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


def test_both_catalogues_hold_the_same_messages_all_translated() -> None:
    english, french = catalogue("en"), catalogue("fr")
    assert set(english) == set(french)
    for messages in (english, french):
        empty = [key for key, text in messages.items()
                 if not text or (isinstance(text, tuple) and not all(text))]
        assert empty == []


def test_every_text_and_problem_key_the_kiosk_shows_is_in_the_catalogue() -> None:
    english = catalogue("en")
    assert used_messages() - set(english) == set()
    assert {f"error.{key}" for key in PROBLEM_KEYS} - set(english) == set()


def test_times_are_shown_in_the_kiosk_time_zone_and_language() -> None:
    from kiosk.i18n import Translator

    moment = dt.datetime(2026, 11, 23, 8, 5, tzinfo=dt.UTC)
    assert Translator("fr", "Europe/Paris").datetime(moment) == "23/11/2026 09:05"
    assert Translator("en", "Europe/London").datetime(moment) == "23/11/2026, 08:05"
