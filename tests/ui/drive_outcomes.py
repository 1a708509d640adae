"""UI scenario: every way a release can end, on the real release screen at 800x480.

Usage: drive_outcomes.py. No peers: the screen is handed the final ``ReleaseUpdate``s
the release workflow produces for each ending (completed; jam, cancel, abort or lost
printer part-way; nothing printed; refused before any money moved), and for a billing
code its client pays. Each final line must say what was printed and what was charged
or given back, a void must not read "Finished", and a code that pays must not show the
user's balance. Screenshots go to the test-artifacts folder. Exit 0 when all held.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from harness import run_scenario, screenshot, tap

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    from kivy.app import App
    from kivy.config import Config

    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")
    from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

    from billing import load_price_list
    from kiosk.billing_screens import BillingCodeScreen
    from kiosk.i18n import Translator
    from kiosk.job_screens import JobListPanel, ReleaseScreen
    from terminal.jobs import BillingPricer, JobList, JobOptions, JobQuote
    from terminal.outcomes import Settlement
    from terminal.ports import Balance, BillingCode
    from terminal.release import ReleaseUpdate, Stage, _ending_problem

    tr = Translator("en", "UTC")
    euros = Decimal
    campus = REPO / "config" / "pricelists" / "campus-default.toml"
    prices = BillingPricer(load_price_list(campus.read_text(encoding="utf-8"), str(campus)))

    def quote(job_id: int, name: str, amount: str, pages: int) -> JobQuote:
        return JobQuote(job_id, name, datetime(2026, 12, 1, tzinfo=UTC), 1,
                        JobOptions(colour=False, duplex=False), pages, 0, pages,
                        euros(amount), "EUR", (), prices)

    def final(q: JobQuote, stage: Stage, done: int, **values: object) -> ReleaseUpdate:
        return ReleaseUpdate(q.job_id, q.name, stage, "EUR", q.amount, impressions_done=done,
                             impressions_total=q.impressions, **values)  # type: ignore[arg-type]

    balance = Balance("EUR", euros("10.00"), euros("0.00"), euros("0.00"), euros("9.20"))
    thesis, jam, gone, empty = (quote(1, "thesis.pdf", "0.40", 4),
                                quote(2, "slides.pdf", "1.00", 10),
                                quote(3, "draft.pdf", "0.36", 3),
                                quote(4, "poster.pdf", "0.50", 1))
    mixed = [
        final(thesis, Stage.CHARGED, 4, held=euros("0.40"), charged=euros("0.40"),
              refunded=euros("0.00"), settlement=Settlement.CHARGED),
        final(jam, Stage.CHARGED, 3, held=euros("1.00"), charged=euros("0.30"),
              refunded=euros("0.70"), problem=_ending_problem("processing-stopped"),
              balance=balance, settlement=Settlement.PARTLY_CHARGED),
        final(gone, Stage.VOIDED, 0, held=euros("0.36"), charged=euros("0.00"),
              refunded=euros("0.36"), problem="job_nothing_printed",
              settlement=Settlement.VOIDED),
        final(empty, Stage.REFUSED, 0, problem="paper_empty"),
    ]
    endings = [_ending_problem(state) for state in ("canceled", "aborted", "unknown")]
    cut_short = [final(q, Stage.CHARGED, 1, held=q.amount, charged=euros("0.10"),
                       refunded=q.amount - euros("0.10"), problem=problem,
                       settlement=Settlement.PARTLY_CHARGED)
                 for q, problem in zip((thesis, jam, gone), endings, strict=True)]
    # printed, but the backend refused the capture: the journal keeps the hold
    cut_short.append(final(empty, Stage.FAILED, 1, held=euros("0.50"),
                           problem="settlement_refused", settlement=Settlement.UNSETTLED))
    acme = BillingCode("ACME-WEB", "Website redesign", "ACME", "ACME Corp", payer="code")
    unchanged = Balance("EUR", euros("2.00"), euros("0.00"), euros("0.00"), euros("2.00"))

    class Outcomes(App):  # type: ignore[misc]
        def build(self) -> ScreenManager:
            self.manager = ScreenManager(transition=NoTransition())
            self.release = ReleaseScreen(tr, on_done=lambda: None)
            self.picker = BillingCodeScreen(tr, on_look=lambda _q: None,
                                            on_choose=lambda *_: None, on_back=lambda: None)
            self.manager.add_widget(self.release)
            self.manager.add_widget(self.picker)
            self.jobs = JobListPanel(tr, on_open=lambda _j: None, on_print_all=lambda: None)
            home = Screen(name="home")
            home.add_widget(self.jobs)
            self.manager.add_widget(home)
            return self.manager

    app = Outcomes()

    def show(quotes: list[JobQuote], updates: list[ReleaseUpdate],
             code: BillingCode | None = None) -> None:
        app.manager.current = "release"
        app.release.start(quotes, code)
        for update in updates:
            app.release.render(update)

    def lines() -> dict[str, str]:
        labels = app.release._status_labels
        return {q.name: labels[q.job_id].text for q in app.release.quotes}

    def scenario(app: Outcomes):  # type: ignore[no-untyped-def]
        yield lambda: app.root is not None
        show([thesis, jam, gone, empty], mixed)
        yield lambda: not app.release.done_button.disabled
        shown = lines()
        assert shown["thesis.pdf"] == "Printed\nPages printed: 4 of 4 · charged €0.40", shown
        assert shown["slides.pdf"].startswith("The printer stopped (jam?)"), shown
        assert "Pages printed: 3 of 10 · charged €0.30 · €0.70 given back" in shown[
            "slides.pdf"], shown
        assert "Pages printed: 0 of 3 · nothing charged · €0.36 given back" in shown[
            "draft.pdf"], shown
        assert "out of paper" in shown["poster.pdf"].lower() or "paper" in shown[
            "poster.pdf"], shown
        assert "nothing charged" in shown["poster.pdf"], shown
        assert app.release.heading.text == "Partly printed", app.release.heading.text
        summary = app.release.summary.text
        for expected in ("Pages printed: 7", "Amount charged: €0.70", "Given back: €1.06",
                         "New balance: €9.20"):
            assert expected in summary, (expected, summary)
        screenshot("outcome-mixed-800x480")

        show([thesis, jam, gone, empty], cut_short)
        yield lambda: not app.release.done_button.disabled
        shown = lines()
        assert "Pages printed: 1 of 1 · €0.50 still held, settled later" in shown[
            "poster.pdf"], shown
        del shown["poster.pdf"]
        summary = app.release.summary.text
        assert "still held, settled later: €0.50" in summary, summary
        assert shown["thesis.pdf"].startswith("The job was cancelled at the printer."), shown
        assert shown["slides.pdf"].startswith("The printer gave up on the job."), shown
        assert shown["draft.pdf"].startswith("The printer stopped reporting"), shown
        assert all("Pages printed: 1 of" in line and "given back" in line
                   for line in shown.values()), shown
        screenshot("outcome-cut-short-800x480")

        show([gone], [mixed[2]])  # a void: nothing printed, all given back
        yield lambda: not app.release.done_button.disabled
        assert app.release.heading.text == "Not printed", app.release.heading.text
        assert "Nothing was charged." in app.release.summary.text, app.release.summary.text
        assert "Given back: €0.36" in app.release.summary.text, app.release.summary.text
        screenshot("outcome-void-800x480")

        show([thesis], [final(thesis, Stage.CHARGED, 4, held=euros("0.40"),
                              charged=euros("0.40"), refunded=euros("0.00"),
                              balance=unchanged, settlement=Settlement.CHARGED)], acme)
        yield lambda: not app.release.done_button.disabled
        assert app.release.heading.text == "Finished", app.release.heading.text
        summary = app.release.summary.text
        assert "charged to ACME-WEB: €0.40" in summary and "Your balance was not used." in summary
        assert "balance:" not in summary.lower() and app.release.balance_line.text == "", summary
        assert "€0.40 charged to ACME-WEB" in lines()["thesis.pdf"], lines()
        screenshot("outcome-code-pays-800x480")

        # before the release: the picker says the code pays, not the user's balance
        app.manager.current = "billing"
        app.picker.open([thesis], optional=False)
        app.picker.show_codes("", [acme, BillingCode("LAB-42", "Lab 42")])
        yield lambda: set(app.picker.code_buttons) == {"ACME-WEB", "LAB-42"}
        label = app.picker.code_buttons["ACME-WEB"].text
        assert "ACME-WEB — ACME Corp pays, not you" in label, label
        assert app.picker.code_buttons["LAB-42"].text == "[b]Lab 42[/b]\nLAB-42"
        screenshot("outcome-picker-code-pays-800x480")

        # a job list priced by the site's list while offline says why, before any release
        app.manager.current = "home"
        app.jobs.show(JobList("bob", "EUR", (thesis, jam), "offline_prices_from_site_list"))
        yield lambda: bool(app.jobs.status.text)
        assert "the site's standard prices apply" in app.jobs.status.text, app.jobs.status.text
        screenshot("outcome-list-offline-prices-800x480")
        app.jobs.show(JobList("bob", "EUR", (thesis, jam)))
        assert app.jobs.status.text == "Your print jobs", app.jobs.status.text
        # a kiosk that cannot price the user's jobs says so instead of an empty list
        app.jobs.show_problem("pricing_unavailable")
        yield lambda: app.jobs.status.texture_size[1] > 0
        assert "cannot be priced" in app.jobs.status.text and not app.jobs.open_buttons
        screenshot("outcome-list-pricing-unavailable-800x480")

        tr.set_language("fr")
        # a language switch re-translates the problem shown (it used to stay in English)
        app.jobs.retranslate()
        assert "ne peuvent pas être chiffrées" in app.jobs.status.text, app.jobs.status.text
        app.picker.retranslate()
        assert "payé par ACME Corp, pas par vous" in app.picker.code_buttons[
            "ACME-WEB"].text
        show([thesis, jam, gone, empty], mixed)
        yield lambda: not app.release.done_button.disabled
        assert app.release.heading.text == "Imprimé en partie", app.release.heading.text
        assert "Pages imprimées : 3 sur 10" in lines()["slides.pdf"], lines()
        screenshot("outcome-mixed-fr-800x480")
        tap(app.release.done_button)

    return run_scenario(app, scenario)


if __name__ == "__main__":
    sys.exit(main())
