"""The job list: estimates from analysis and the price list, alternatives and savings."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from analysis import DocumentAnalysis, ImpressionColour
from billing import load_price_list
from terminal.fakes import FakeHeldJob, FakeHoldQueue, FakePriceLists, FakePricer, document, later
from terminal.jobs import (
    BillingPricer,
    JobNotFound,
    JobOptions,
    JobService,
    UserPricer,
    printed_usage,
)
from terminal.ports import PriceUnavailable

DOCS = {
    Path("/spool/report"): document("c", "m", "m", "c"),
    Path("/spool/flyer"): document("c"),
}


class RecordingAnalyse:
    def __init__(self) -> None:
        self.calls: list[tuple[Path | None, int | None]] = []

    def __call__(self, path: Path | None, pages: int | None) -> DocumentAnalysis:
        self.calls.append((path, pages))
        assert path is not None
        return DOCS[path]


def service(*jobs: FakeHeldJob) -> tuple[JobService, FakeHoldQueue, RecordingAnalyse]:
    queue = FakeHoldQueue(jobs)
    analyse = RecordingAnalyse()
    return JobService(queue, FakePricer(), analyse), queue, analyse


def test_each_job_is_priced_from_its_analysis_and_the_total_adds_up() -> None:
    jobs, _queue, _analyse = service(
        FakeHeldJob(7, "flyer.pdf", submitted_at=later(5), copies=3,
                    document=Path("/spool/flyer")),
        FakeHeldJob(4, "report.pdf", document=Path("/spool/report")),
        FakeHeldJob(9, "not mine", username="bob", document=Path("/spool/flyer")),
    )
    listed = jobs.list_jobs("alice")
    assert [job.name for job in listed.jobs] == ["report.pdf", "flyer.pdf"]  # oldest first
    report, flyer = listed.jobs
    # report: 2 colour x 0.20 + 2 mono x 0.05 + 4 sheets x 0.01
    assert (report.impressions, report.colour_impressions, report.sheets) == (4, 2, 4)
    assert report.amount == Decimal("0.54")
    # flyer: 3 copies of one colour page
    assert (flyer.impressions, flyer.colour_impressions, flyer.amount) == (3, 3, Decimal("0.63"))
    assert listed.total == Decimal("1.17")
    assert listed.currency == "EUR" and report.job_ref == "cups-4"


def test_alternatives_show_the_price_and_saving_of_mono_and_duplex() -> None:
    jobs, _queue, _analyse = service(FakeHeldJob(4, "report.pdf", document=Path("/spool/report")))
    report = jobs.list_jobs("alice").jobs[0]
    by_options = {alt.options: alt for alt in report.alternatives}
    assert set(by_options) == {JobOptions(True, True), JobOptions(False, False),
                               JobOptions(False, True)}
    mono = by_options[JobOptions(colour=False, duplex=False)]
    assert (mono.amount, mono.saving) == (Decimal("0.24"), Decimal("0.30"))
    mono_duplex = by_options[JobOptions(colour=False, duplex=True)]
    assert (mono_duplex.amount, mono_duplex.saving) == (Decimal("0.22"), Decimal("0.32"))


def test_switching_to_mono_changes_the_job_at_the_server_without_reanalysing() -> None:
    jobs, queue, analyse = service(FakeHeldJob(4, "report.pdf", document=Path("/spool/report")))
    jobs.list_jobs("alice")
    listed = jobs.change_options("alice", 4, JobOptions(colour=False, duplex=False))
    assert ("set_options", 4, False, False) in queue.calls
    report = listed.find(4)
    assert report.options == JobOptions(colour=False, duplex=False)
    assert (report.amount, report.colour_impressions) == (Decimal("0.24"), 0)
    assert len(analyse.calls) == 1


def test_delete_cancels_the_job_and_another_users_job_cannot_be_touched() -> None:
    jobs, queue, _analyse = service(
        FakeHeldJob(4, "report.pdf", document=Path("/spool/report")),
        FakeHeldJob(9, "bob's", username="bob", document=Path("/spool/flyer")),
    )
    assert jobs.delete("alice", 4).jobs == ()
    assert ("cancel", 4) in queue.calls
    with pytest.raises(JobNotFound):
        jobs.delete("alice", 9)
    with pytest.raises(JobNotFound):
        jobs.change_options("alice", 9, JobOptions(colour=False, duplex=False))
    assert ("cancel", 9) not in queue.calls


def test_a_job_without_a_reachable_document_gets_the_servers_page_count() -> None:
    queue = FakeHoldQueue([FakeHeldJob(5, "remote.pdf", pages=3)])
    seen: list[tuple[Path | None, int | None]] = []

    def analyse(path: Path | None, pages: int | None) -> DocumentAnalysis:
        seen.append((path, pages))
        return document(*"m" * (pages or 1))

    quote = JobService(queue, FakePricer(), analyse).list_jobs("alice").jobs[0]
    assert seen == [(None, 3)]
    assert (quote.impressions, quote.amount) == (3, Decimal("0.18"))


def test_printed_part_counts_whole_copies_then_the_first_sides() -> None:
    analysis = document("c", "m", "m")
    usage = printed_usage(analysis, JobOptions(True, False), copies=2, number_up=1,
                          impressions_printed=4)
    assert usage.total_impressions() == 4
    # copy 1: c m m, copy 2: c -> two colour, two mono
    assert sorted((c.value, n) for (c, _), n in usage.impressions.items()) == [
        ("colour", 2), ("mono", 2)]
    assert printed_usage(analysis, JobOptions(True, False), 2, 1, 99).total_impressions() == 6
    assert printed_usage(analysis, JobOptions(True, False), 2, 1, 0).total_impressions() == 0


REPO = Path(__file__).resolve().parents[2]


def test_billing_price_list_prices_jobs_and_their_alternatives() -> None:
    plist_path = REPO / "config" / "pricelists" / "campus-default.toml"
    pricer = BillingPricer(load_price_list(plist_path.read_text(encoding="utf-8"),
                                           str(plist_path)))
    queue = FakeHoldQueue([FakeHeldJob(4, "report.pdf", document=Path("/spool/report"))])
    report = JobService(queue, pricer, RecordingAnalyse()).list_jobs("alice").jobs[0]
    # 2 colour + 2 mono A4 sides; the 500 free mono pages are not counted on (a hold
    # must cover the most a job can cost)
    assert (report.amount, report.currency) == (Decimal("0.60"), "EUR")
    prices = {alt.options: (alt.amount, alt.saving) for alt in report.alternatives}
    assert prices[JobOptions(colour=False, duplex=False)] == (Decimal("0.20"), Decimal("0.40"))
    assert prices[JobOptions(colour=True, duplex=True)] == (Decimal("0.52"), Decimal("0.08"))
    assert prices[JobOptions(colour=False, duplex=True)] == (Decimal("0.16"), Decimal("0.44"))


def test_an_alternative_the_price_list_cannot_price_is_left_out() -> None:
    plist = load_price_list(
        '[price_list]\nname = "mono only A4"\ncurrency = "EUR"\nscope = "default"\n'
        '[print]\nmono = { A4 = "0.05" }\n', "mono-only.toml")
    queue = FakeHoldQueue([FakeHeldJob(4, "report.pdf", colour=False,
                                       document=Path("/spool/report"))])
    report = JobService(queue, BillingPricer(plist), RecordingAnalyse()).list_jobs("alice").jobs[0]
    assert report.amount == Decimal("0.20")
    assert {alt.options for alt in report.alternatives} == {JobOptions(colour=False, duplex=True)}
    with pytest.raises(PriceUnavailable):
        BillingPricer(plist).price({(ImpressionColour.COLOUR, "A4"): 1}, 1, False)


def test_user_pricer_uses_the_users_list_and_included_pages_left() -> None:
    """Campus list: 500 included mono sides a period, then 0.05; colour 0.25."""
    text = (REPO / "config" / "pricelists" / "campus-default.toml").read_text(encoding="utf-8")
    local = BillingPricer(load_price_list(text, "campus-default.toml"))
    source = FakePriceLists(default=(text, (498, 0)))
    pricer = UserPricer(source, local)
    three_mono = {(ImpressionColour.MONO, "A4"): 3}
    assert local.price(three_mono, 1, False) == Decimal("0.15")  # the local list: worst case
    alice = pricer.prepare("alice")
    assert source.asked == ["alice"]
    assert alice.price(three_mono, 1, False) == Decimal("0.05")  # 2 included, 1 paid
    source.default = (text, (0, 0))
    assert pricer.prepare("bob").price(three_mono, 1, False) == Decimal("0.00")
    source.down = True  # backend away, carol never seen: the local list's worst case
    carol = pricer.prepare("carol")
    assert carol.price(three_mono, 1, False) == Decimal("0.15")
    assert carol.notice == "offline_prices_from_site_list"
    assert alice.price(three_mono, 1, False) == Decimal("0.05")  # alice's own, still


def test_a_size_the_users_list_does_not_price_falls_back_to_the_site_list() -> None:
    campus = (REPO / "config" / "pricelists" / "campus-default.toml").read_text(encoding="utf-8")
    a4_only = campus.replace('name = "Campus default 2026"', 'name = "A4 only"')
    a4_only = a4_only[: a4_only.index("[print]")] + (
        '[print]\nmono = { A4 = "0.01" }\ncolour = { A4 = "0.10" }\n'
    )
    pricer = UserPricer(FakePriceLists(default=(a4_only, None)),
                        BillingPricer(load_price_list(campus, "campus-default.toml")))
    dave = pricer.prepare("dave")
    assert dave.price({(ImpressionColour.COLOUR, "A4"): 1}, 1, False) == Decimal("0.10")
    assert dave.price({(ImpressionColour.COLOUR, "Letter"): 1}, 1, False) == Decimal("0.25")


def test_listing_jobs_prepares_the_pricer_for_that_user() -> None:
    listing, _queue, _analyse = service()
    assert isinstance(listing.pricer, FakePricer)
    listing.list_jobs("alice")
    assert listing.pricer.prepared == ["alice"]


def test_a_job_the_kiosk_cannot_read_is_priced_from_the_print_servers_report() -> None:
    """Spool file unreachable: the spool agent's counts price it; until they arrive the
    fallback prices it and is not kept, so the report is used as soon as it exists."""
    from analysis import analysis_from_counts

    job = FakeHeldJob(7, "remote.pdf", document=None, uuid="urn:uuid:7")
    reports: dict[str, DocumentAnalysis] = {}
    queue = FakeHoldQueue([job])

    def fallback(path: Path | None, pages: int | None) -> DocumentAnalysis:
        assert path is None
        rule = analysis_from_counts([{"colour": "colour", "size": "A4", "count": 9}], "rule")
        return replace(rule, estimated=True)

    listing = JobService(queue, FakePricer(), fallback, reported=reports.get)
    first = listing.list_jobs("alice").jobs[0]
    assert first.estimated and first.impressions == 9
    reports["urn:uuid:7"] = analysis_from_counts(
        [{"colour": "colour", "size": "A4", "count": 1}, {"colour": "mono", "size": "A4",
                                                          "count": 3}], "job urn:uuid:7")
    second = listing.list_jobs("alice").jobs[0]
    assert not second.estimated
    assert (second.impressions, second.colour_impressions) == (4, 1)
