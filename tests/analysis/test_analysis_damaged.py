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


@pytest.mark.parametrize("sample", ["generated.pdf", *SAMPLES])
def test_damaged_file_gives_result_or_our_error(sample: str, tmp_path: Path) -> None:
    if sample == "generated.pdf":
        data = _generated_pdf(tmp_path)
    elif JOBS.is_dir():
        data = (JOBS / sample).read_bytes()
    else:
        pytest.skip("shared corpus not present")
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
