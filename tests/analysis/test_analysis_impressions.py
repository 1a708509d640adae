"""Copies, n-up and sides turn analysed pages into billable impressions and sheets."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import (
    DocumentAnalysis,
    ImpressionColour,
    PageAnalysis,
    PageColour,
    Sides,
    billable_usage,
    paper_size,
)

A4 = paper_size(595.28, 841.89)
A3 = paper_size(841.89, 1190.55)
C, M, B = PageColour.COLOUR, PageColour.MONO, PageColour.BLANK
COLOUR, MONO = ImpressionColour.COLOUR, ImpressionColour.MONO


def _doc(*colours: PageColour, size: object = A4) -> DocumentAnalysis:
    return DocumentAnalysis(
        Path("job.pdf"), "pdf", [PageAnalysis(n, c, size) for n, c in enumerate(colours, 1)]
    )  # type: ignore[arg-type]


def test_simplex_single_copy_counts_each_page_and_blank_as_mono() -> None:
    usage = billable_usage(_doc(C, M, B, M, C))
    assert usage.impressions == {(COLOUR, "A4"): 2, (MONO, "A4"): 3}
    assert usage.sheets == {"A4": 5}


def test_copies_multiply_and_duplex_halves_sheets_per_copy() -> None:
    usage = billable_usage(_doc(C, M, M, M, M), copies=3, sides="two-sided-long-edge")
    assert usage.impressions == {(COLOUR, "A4"): 3, (MONO, "A4"): 12}
    assert usage.total_impressions() == 15
    assert usage.sheets == {"A4": 9}  # 3 sheets per copy, odd page count rounds up per copy


def test_n_up_side_is_colour_if_any_page_on_it_is() -> None:
    usage = billable_usage(
        _doc(M, M, M, C, M, B, B, B, M), number_up=4, sides=Sides.TWO_SIDED_SHORT_EDGE
    )
    assert usage.impressions == {(COLOUR, "A4"): 1, (MONO, "A4"): 2}
    assert usage.sheets == {"A4": 2}
    assert usage.total_impressions(COLOUR) == 1 and usage.total_sheets() == 2


def test_sizes_are_kept_apart() -> None:
    doc = DocumentAnalysis(Path("j.pdf"), "pdf", [PageAnalysis(1, C, A3), PageAnalysis(2, M, A4)])
    usage = billable_usage(doc, copies=2)
    assert usage.impressions == {(COLOUR, "A3"): 2, (MONO, "A4"): 2}
    assert usage.sheets == {"A3": 2, "A4": 2}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"copies": 0}, "copies"),
        ({"copies": True}, "copies"),
        ({"number_up": 3}, "number-up"),
        ({"sides": "both"}, "sides must be one of one-sided"),
    ],
)
def test_bad_job_attributes_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        billable_usage(_doc(M), **kwargs)  # type: ignore[arg-type]
