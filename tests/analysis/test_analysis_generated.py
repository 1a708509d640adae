"""Every generated document, one construct each, is classified exactly as constructed."""

from __future__ import annotations

from pathlib import Path

import pytest
from mixed_documents import Case, build_suite, ghostscript_available

from analysis import PageColour, analyse_document


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    return {case.name: case for case in build_suite(tmp_path_factory.mktemp("mixed"))}


def _case_names() -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        return [case.name for case in build_suite(Path(work))]


@pytest.mark.parametrize("name", _case_names())
def test_generated_document_matches_its_truth(suite: dict[str, Case], name: str) -> None:
    case = suite[name]
    if case.path.suffix in (".ps", ".gz") and not ghostscript_available():
        pytest.skip("PostScript needs Ghostscript")
    analysis = analyse_document(case.path)
    assert [(p.colour.value, p.size.name) for p in analysis.pages] == list(case.truth)
    assert [p.number for p in analysis.pages] == list(range(1, len(case.truth) + 1))


def test_tally_groups_pages_by_colour_and_size(suite: dict[str, Case]) -> None:
    analysis = analyse_document(suite["mixed_sizes"].path)
    assert analysis.tally() == {
        (PageColour.MONO, "Letter"): 2,
        (PageColour.COLOUR, "A3"): 1,
        (PageColour.BLANK, "A5"): 1,
        (PageColour.MONO, "Legal"): 1,
        (PageColour.COLOUR, "Tabloid"): 1,
        (PageColour.MONO, "custom"): 1,
        (PageColour.MONO, "A4"): 1,
    }
    assert analysis.count(PageColour.COLOUR) == 2
    assert analysis.sizes()["Letter"] == 2
    landscape = analysis.pages[6].size
    assert (landscape.width, landscape.height) == (842.0, 595.0)
    rotated = analysis.pages[7].size
    assert (rotated.width, rotated.height) == (792.0, 612.0)
