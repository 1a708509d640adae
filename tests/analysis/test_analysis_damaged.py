"""Damaged files never escape as foreign exceptions: a result or a DocumentAnalysisError.

Each sample is truncated at several points and has bytes overwritten at seeded random
places; whatever the parsers meet, the caller sees only our error family.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from corpus_truth import JOBS
from pdf_writer import Page, PdfWriter

from analysis import DocumentAnalysisError, analyse_document

SAMPLES = [
    "ghostpdl__frs96.pxl",
    "ghostpdl__tiger.px3",
    "cups__testfile.pcl",
    "ghostpdl__tiger.xps",
    "cups__testfile.pdf",
]


def _variants(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    cuts = [data[: len(data) * k // 7] for k in range(1, 7)]
    flips = []
    for _ in range(8):
        damaged = bytearray(data)
        for _ in range(12):
            damaged[rng.randrange(16, len(damaged))] = rng.randrange(256)
        flips.append(bytes(damaged))
    return cuts + flips


def _generated_pdf(tmp_path: Path) -> bytes:
    writer = PdfWriter()
    writer.add_page(Page("BT /F1 11 Tf 72 700 Td (hello) Tj ET 1 0 0 rg 72 72 100 100 re f"))
    path = tmp_path / "sample.pdf"
    writer.write(path)
    return path.read_bytes()


def _sample_bytes(sample: str, tmp_path: Path) -> bytes:
    """The generated PDF, or a print job of the shared corpus."""
    if sample == "generated.pdf":
        return _generated_pdf(tmp_path)
    if not JOBS.is_dir():
        pytest.skip("shared corpus not present")
    return (JOBS / sample).read_bytes()


@pytest.mark.parametrize("sample", ["generated.pdf", *SAMPLES])
def test_damaged_file_gives_result_or_our_error(sample: str, tmp_path: Path) -> None:
    data = _sample_bytes(sample, tmp_path)
    outcomes = {"analysed": 0, "refused": 0}
    for number, variant in enumerate(_variants(data, seed=len(sample))):
        path = tmp_path / f"v{number}-{sample}"
        path.write_bytes(variant)
        try:
            analyse_document(path)
            outcomes["analysed"] += 1
        except DocumentAnalysisError as error:
            assert error.path == path
            outcomes["refused"] += 1
    assert sum(outcomes.values()) == 14


# -- reasons (issue 12, 11c): every failure says what is wrong and where ------------------

EMPTY_REASONS = ("()", "Success", "Unrecoverable error", "exit code", "(None)")


def assert_meaningful(error: DocumentAnalysisError, path: Path) -> None:
    """Not empty, not "()", not PDFium's "Success", not Ghostscript's banner line."""
    assert error.path == path and str(path) in str(error)
    assert len(error.reason) > 20, error.reason
    assert not any(empty in error.reason for empty in EMPTY_REASONS), error.reason


@pytest.mark.parametrize("sample", ["generated.pdf", *SAMPLES, "cups__testfile.ps"])
def test_every_refusal_of_a_damaged_file_gives_a_meaningful_reason(
    sample: str, tmp_path: Path
) -> None:
    data = _sample_bytes(sample, tmp_path)
    for number, variant in enumerate(_variants(data, seed=len(sample))):
        path = tmp_path / f"v{number}-{sample}"
        path.write_bytes(variant)
        try:
            analyse_document(path)
        except DocumentAnalysisError as error:
            assert_meaningful(error, path)


def _three_pages_second_damaged(tmp_path: Path) -> Path:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_page(Page("0.5 g 72 72 100 100 re f"))
    path = tmp_path / "three.pdf"
    writer.write(path)
    data = path.read_bytes()
    second = data.index(b"<< /Type /Page /Parent", data.index(b"<< /Type /Page /Parent") + 1)
    path.write_bytes(data[:second] + b"(" * 22 + data[second + 22 :])
    return path


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("error.ps", b"%!PS\nfoo\nshowpage\n",
         "Ghostscript could not run the PostScript: /undefined in foo at byte 9"),
        ("head-only.pdf", b"%PDF-1.4\n",
         "the PDF cannot be opened: it is not a valid PDF: the cross-reference table or "
         "trailer is damaged or missing"),
        ("three.pdf", None, "page 2 of 3 cannot be loaded: its page object or content stream"),
        ("cut.ps.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "the gzip'd job cannot be expanded"),
    ],
)  # fmt: skip
def test_analyze_command_says_what_is_wrong_and_where(
    name: str, content: bytes | None, expected: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from printkiosk.cli import main

    if content is None:
        path = _three_pages_second_damaged(tmp_path)
    else:
        path = tmp_path / name
        path.write_bytes(content)
    with pytest.raises(DocumentAnalysisError) as caught:
        analyse_document(path)
    assert_meaningful(caught.value, path)
    assert main(["analyze", str(path)]) == 2
    assert f"printkiosk analyze: {path}: {expected}" in capsys.readouterr().err


def test_a_pdf_failing_at_page_2_is_estimated_as_all_its_pages(tmp_path: Path) -> None:
    from analysis import FallbackRule, PageColour, analyse_or_fall_back

    path = _three_pages_second_damaged(tmp_path)
    estimate = analyse_or_fall_back(path, FallbackRule(pages=1, colour=True))
    assert [p.colour for p in estimate.pages] == [
        PageColour.MONO, PageColour.COLOUR, PageColour.COLOUR
    ]


def test_foreign_errors_without_a_message_are_named_by_their_kind() -> None:
    from analysis.errors import describe

    assert describe(MemoryError()) == "MemoryError"
    assert describe(IndexError()) == "IndexError"
    assert describe(IndexError("list index out of range")) == "IndexError: list index out of range"
