"""``printkiosk analyze FILE [--json]`` prints the analysis, or the reason and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pdf_writer import Page, PdfWriter

from printkiosk.cli import main


@pytest.fixture()
def job(tmp_path: Path) -> Path:
    writer = PdfWriter()
    writer.add_page(Page("BT /F1 11 Tf 72 700 Td (mono) Tj ET"))
    writer.add_page(Page("0 0 1 rg 72 72 300 300 re f", width=612, height=792))
    writer.add_page(Page(""))
    path = tmp_path / "job.pdf"
    writer.write(path)
    return path


def test_text_output(job: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(job)]) == 0
    out = capsys.readouterr().out
    assert "pages:        3" in out
    assert "colour pages: 1 (2)" in out
    assert "blank pages:  1 (3)" in out
    assert "A4 (595 x 842 pt): 2 page(s) (1, 3)" in out
    assert "Letter (612 x 792 pt): 1 page(s) (2)" in out


def test_json_output(job: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--json", str(job)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["pages"], result["colour_pages"], result["blank_pages"]) == (3, 1, 1)
    assert [p["colour"] for p in result["per_page"]] == ["mono", "colour", "blank"]
    assert result["sizes"] == {"A4": 2, "Letter": 1}


def test_unreadable_file_exits_2_with_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nnothing else")
    assert main(["analyze", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "cannot be opened: it is not a valid PDF" in err
