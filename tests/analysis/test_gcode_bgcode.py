"""Binary G-code: the corpus .bgcode against its .gcode twin, every compression and
encoding of the specification, and damaged or truncated files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from bgcode_writer import block, meatpack_encode, write_bgcode

from analysis import GcodeError, analyse_gcode, decode_bgcode, is_bgcode
from analysis.bgcode import heatshrink_decode

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "gcode"
BGCODE = CORPUS / "libbgcode__mini_cube_ps2.8.1.bgcode"
TEXT = CORPUS / "libbgcode__mini_cube_ps2.8.1.gcode"


def code_lines(path: Path) -> list[str]:
    """The G-code proper: not comments, not blank (libbgcode drops blank lines)."""
    return [line for line in path.read_text().splitlines()
            if line.strip() and not line.startswith(";")]


def test_corpus_bgcode_decodes_to_its_text_twin(tmp_path: Path) -> None:
    out = decode_bgcode(BGCODE, tmp_path / "out.gcode")
    assert code_lines(out) == code_lines(TEXT)


def test_corpus_bgcode_analysis_equals_the_text_one() -> None:
    binary = analyse_gcode(BGCODE)
    text = analyse_gcode(TEXT)
    assert binary.format == "bgcode" and text.format == "gcode"
    assert binary.size_bytes == BGCODE.stat().st_size
    # the metadata blocks give the same slicer figures as the text file's comments
    assert binary.slicer == text.slicer
    assert binary.slicer.printer_model == "MK4S" and binary.slicer.material == "PLA"
    same = ("filament_mm", "total_mm", "diameter_mm", "density_g_cm3", "volume_cm3", "grams",
            "layers", "bbox_mm", "time_s", "time_source", "volumetric", "start_gcode_mm",
            "comparable_mm")
    assert {k: getattr(binary, k) for k in same} == {k: getattr(text, k) for k in same}
    assert is_bgcode(BGCODE) and not is_bgcode(TEXT)


def test_the_decoded_text_analyses_as_the_bgcode(tmp_path: Path) -> None:
    """The backend stores the decoded text for the printer and measures it: the slicer
    (and so how it counts its own figures) must still be known from that text."""
    decoded = analyse_gcode(decode_bgcode(BGCODE, tmp_path / "out.gcode"))
    binary = analyse_gcode(BGCODE)
    assert decoded.slicer.slicer == "PrusaSlicer" and decoded.slicer.version == "2.8.1"
    assert (decoded.total_mm, decoded.comparable_mm) == (binary.total_mm, binary.comparable_mm)
    assert decoded.slicer == binary.slicer


GCODE_TEXT = (b"G90\nM83\nM104 S215 ; hot\nG1 Z0.2 F720\nG1 X10 Y10 E1.5 F1200\n"
              b"G1 X20.5 Y10 E.75\nG1 E-.8\nG0 X30 Y30\nG1 E.8\nG2 X40 Y30 I5 J0 E2\n"
              b"G1 X40 Y40 E1.25\n") * 40
METADATA = b"filament used [mm]=420\nestimated printing time (normal mode)=2m 5s\n"


@pytest.mark.parametrize("compression", [0, 1, 2, 3], ids=["none", "deflate", "hs11", "hs12"])
@pytest.mark.parametrize("encoding", [0, 1], ids=["plain", "meatpack"])
def test_every_compression_and_encoding(tmp_path: Path, compression: int,
                                        encoding: int) -> None:
    half = GCODE_TEXT.index(b"\n", len(GCODE_TEXT) // 2) + 1
    # each G-code block is encoded on its own (MeatPack state starts afresh in each)
    parts = [GCODE_TEXT[:half], GCODE_TEXT[half:]]
    if encoding:
        parts = [meatpack_encode(part) for part in parts]
    path = write_bgcode(tmp_path / "x.bgcode", [
        block(0, b"Producer=PrusaSlicer 2.8.1\n"),
        block(3, b"printer_model=MK4\nfilament_type=PETG\n", compression=compression),
        block(4, METADATA, compression=compression),
        block(2, b"filament_diameter=1.75\nfilament_density=1.27\n"),
        *(block(1, part, compression=compression, parameters=bytes([encoding, 0]))
          for part in parts),
    ])
    text = tmp_path / "x.gcode"
    text.write_bytes(GCODE_TEXT + b"; estimated printing time (normal mode) = 2m 5s\n")
    decoded = decode_bgcode(path, tmp_path / "decoded.gcode")
    assert code_lines(decoded) == [line.split(";")[0].strip() if encoding else line
                                   for line in code_lines(text)]
    ours, reference = analyse_gcode(path), analyse_gcode(text)
    assert (ours.filament_mm, ours.layers, ours.bbox_mm) == \
        (reference.filament_mm, reference.layers, reference.bbox_mm)
    figures = ours.slicer
    assert (figures.slicer, figures.printer_model, figures.material, figures.time_s) == \
        ("PrusaSlicer", "MK4", "PETG", 125)
    assert ours.density_g_cm3 == Decimal("1.27")  # from the slicer metadata block


def test_a_flipped_byte_is_a_crc_error_naming_the_block(tmp_path: Path) -> None:
    data = bytearray(BGCODE.read_bytes())
    data[-100] ^= 0x01  # inside the last block: the G-code
    damaged = tmp_path / "damaged.bgcode"
    damaged.write_bytes(bytes(data))
    with pytest.raises(GcodeError, match="CRC32 mismatch in the G-code block") as caught:
        analyse_gcode(damaged)
    assert caught.value.block == 6 and caught.value.line is None


def test_a_truncated_file_is_an_error_naming_the_block(tmp_path: Path) -> None:
    data = BGCODE.read_bytes()
    cut = tmp_path / "cut.bgcode"
    cut.write_bytes(data[: len(data) - 5000])
    with pytest.raises(GcodeError, match="truncated") as caught:
        analyse_gcode(cut)
    assert caught.value.block == 6
    cut.write_bytes(data[:15])
    with pytest.raises(GcodeError, match="truncated") as caught:
        decode_bgcode(cut, tmp_path / "out.gcode")
    assert caught.value.block == 0


def test_damaged_heatshrink_is_refused() -> None:
    assert heatshrink_decode(b"\x00\x00", 11, 4, 10) is None  # a back-reference to nothing
    assert heatshrink_decode(b"\xa0", 12, 4, 5) is None       # runs out of bits


def test_a_bad_line_inside_a_bgcode_names_the_bgcode_and_the_decoded_line(tmp_path: Path) -> None:
    path = write_bgcode(tmp_path / "bad.bgcode", [
        block(1, b"M83\nG1 X1 E1\nG1 X2 Ebad\n", parameters=b"\x00\x00")])
    with pytest.raises(GcodeError, match="decoded text") as caught:
        analyse_gcode(path)
    assert caught.value.path == path and caught.value.line == 3
