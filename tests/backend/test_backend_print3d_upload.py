"""3D uploads through the API: stored by id, analysed, priced with the user's list,
flagged, limited (size streamed, jobs per user), and refused clearly when malformed or
not priced. Every test runs on SQLite and PostgreSQL (the ``db`` fixture)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from backend_fixtures import Backend
from print3d_helpers import PER_GRAM, PER_HOUR, SETUP, backend_with, upload, uploaded
from sqlalchemy import select

from backend.db import Database
from backend.demo_gcode import cube_gcode
from backend.models import AuditEntry, Print3DJob

PI = Decimal("3.14159265358979323846")


def expected_grams(mm: Decimal, density: str = "1.24") -> Decimal:
    radius = Decimal("0.875")
    return (mm * PI * radius * radius / 1000 * Decimal(density)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture
def printing(db: Database, tmp_path: Path) -> Iterator[Backend]:
    with backend_with(db, tmp_path) as backend:
        yield backend


def store(backend: Backend) -> Path:
    assert backend.config.print3d is not None
    return backend.config.print3d.storage_path


def test_upload_is_analysed_priced_and_stored_by_id(printing: Backend) -> None:
    cube = cube_gcode()
    job = uploaded(printing, cube.text, filename="../../etc/My cube.gcode")
    grams = expected_grams(cube.filament_mm)
    minutes = -(-cube.time_s // 60)
    price = money(SETUP + grams * PER_GRAM + PER_HOUR * minutes / 60)
    assert (job["status"], job["username"], job["material"]) == ("ready", "alice", "PLA")
    assert job["name"] == "My cube.gcode"  # shown, never used as a path
    assert Decimal(job["grams"]) == grams
    assert Decimal(job["metres"]) == money(cube.filament_mm / 1000)
    assert job["minutes"] == minutes and job["time_source"] == "slicer"
    assert job["grams_source"] == "ours"
    assert Decimal(job["price"]) == price
    assert Decimal(job["hold_amount"]) == money(price + PER_HOUR * minutes / 60
                                                * Decimal("0.25"))
    assert job["flags"] == []
    assert Decimal(job["ours"]["total_mm"]) == cube.filament_mm
    assert job["slicer"]["printer_model"] == "MK4"
    stored = store(printing) / f"{job['job_id']}.gcode"
    assert stored.read_bytes() == cube.text.encode()
    assert sorted(p.name for p in store(printing).iterdir()) == [stored.name]
    with printing.db.read() as session:
        row = session.get_one(Print3DJob, job["job_id"])
        assert row.sha256 == hashlib.sha256(cube.text.encode()).hexdigest()
        assert row.size_bytes == len(cube.text.encode())
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "print3d.upload")).one()
        assert audit.subject == f"print3d:{job['job_id']}"
        assert audit.actor.startswith("terminal:")


def test_flags_say_what_the_group_expects_and_what_the_file_says(printing: Backend) -> None:
    other_model = uploaded(printing, cube_gcode(printer_model="MK3S").text)
    assert other_model["flags"] == [{"code": "printer_model_mismatch", "expected": "MK4",
                                     "found": "MK3S", "blocks_release": True}]
    not_loaded = uploaded(printing, cube_gcode(material="TPU").text)
    assert not_loaded["flags"] == [{"code": "material_not_loaded", "expected": "PLA, PETG",
                                    "found": "TPU", "blocks_release": True}]
    lying = cube_gcode(stated_factor=Decimal("1.2"))
    disagree = uploaded(printing, lying.text)
    assert disagree["flags"] == [{"code": "figures_disagree",
                                  "expected": f"{lying.filament_mm} mm",
                                  "found": f"{money(lying.filament_mm * Decimal('1.2'))} mm",
                                  "blocks_release": False}]
    grams_only = "\n".join(line for line in lying.text.splitlines() if "[mm]" not in line)
    by_grams = uploaded(printing, grams_only, username="bob")
    assert [f["code"] for f in by_grams["flags"]] == ["figures_disagree"]
    assert by_grams["flags"][0]["expected"].endswith(" g")
    # The price uses our filament, not the header's.
    assert Decimal(disagree["grams"]) == expected_grams(lying.filament_mm)


def test_group_density_is_used_when_the_slicer_states_none(db: Database,
                                                          tmp_path: Path) -> None:
    text = "\n".join(line for line in cube_gcode(material="PETG").text.splitlines()
                     if "filament_density" not in line and "[g]" not in line)
    with backend_with(db, tmp_path) as backend:
        job = uploaded(backend, text)
    assert job["material"] == "PETG"
    assert job["ours"]["density_g_cm3"] == "1.27"
    assert Decimal(job["grams"]) == expected_grams(cube_gcode().filament_mm, "1.27")


def test_a_malformed_file_is_refused_with_its_line(printing: Backend) -> None:
    text = "M83\nG1 X10 Y10 E1.5\nG1 X20 Y10 E0.4\nG1 X20 Y20 Eabc\nG1 X10 Y20 E0.4\n"
    answer = upload(printing, text)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "gcode_malformed"
    assert answer.json()["line"] == 4
    assert "line 4" in answer.json()["detail"]
    assert list(store(printing).iterdir()) == []
    nothing = upload(printing, "; only a comment\nG28\nG1 X10 Y10\n")
    assert nothing.status_code == 400 and nothing.json()["code"] == "gcode_malformed"
    with printing.db.read() as session:
        assert session.scalars(select(Print3DJob)).all() == []


def test_a_file_over_the_limit_is_refused_while_it_streams(printing: Backend) -> None:
    big = cube_gcode().text.encode() * 300  # > 1 MiB (max_file_mb = 1)
    assert len(big) > 1024 * 1024
    answer = upload(printing, big)
    assert answer.status_code == 413, answer.text
    assert answer.json()["code"] == "print3d_file_too_large"
    assert answer.json()["max_file_mb"] == 1

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        boundary = b"xyzBOUNDARY"
        yield (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; '
               b'filename="big.gcode"\r\n\r\n')
        for _ in range(40):
            yield b"G1 X1 E0.1\n" * 10_000
        yield b"\r\n--" + boundary + b"--\r\n"

    streamed = printing.client.post(
        "/api/v1/print3d/jobs", content=chunks(),
        headers={**printing.headers(), "Content-Type": "multipart/form-data; boundary=xyzBOUNDARY"})
    assert streamed.status_code == 413, streamed.text
    assert streamed.json()["code"] == "print3d_file_too_large"
    assert list(store(printing).iterdir()) == []


def test_jobs_per_user_are_limited(printing: Backend) -> None:
    text = cube_gcode(layers=2).text
    for _ in range(3):
        uploaded(printing, text)
    refused = upload(printing, text)
    assert refused.status_code == 409 and refused.json()["code"] == "print3d_too_many_jobs"
    assert len(list(store(printing).iterdir())) == 3
    uploaded(printing, text, username="bob")  # another user's queue is their own


def test_a_list_without_3d_prices_is_a_clear_refusal(printing: Backend) -> None:
    answer = upload(printing, cube_gcode(layers=2).text, username="carol")  # staff list
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "print3d_not_priced"
    assert "Test staff" in answer.json()["detail"]
    assert list(store(printing).iterdir()) == []


def test_a_material_the_list_does_not_price_is_a_clear_refusal(printing: Backend) -> None:
    answer = upload(printing, cube_gcode(layers=2, material="NYLON").text)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "print3d_not_priced"
    assert "no price for material 'NYLON'" in answer.json()["detail"]
    assert list(store(printing).iterdir()) == []


def test_unknown_group_user_and_missing_parts(printing: Backend) -> None:
    text = cube_gcode(layers=2).text
    assert upload(printing, text, group="nowhere").json()["code"] == "print3d_group_unknown"
    assert upload(printing, text, username="nobody").json()["code"] == "user_unknown"
    missing = printing.client.post("/api/v1/print3d/jobs", headers=printing.headers(),
                                   data={"username": "alice"},
                                   files={"file": ("a.gcode", text.encode())})
    assert missing.status_code == 400 and missing.json()["code"] == "invalid_request"
    unauthorised = printing.client.post("/api/v1/print3d/jobs", data={"username": "alice"})
    assert unauthorised.status_code == 401


def test_without_print3d_section_the_routes_say_so(backend: Backend) -> None:
    answer = upload(backend, cube_gcode(layers=2).text)
    assert answer.status_code == 404 and answer.json()["code"] == "print3d_not_configured"


def test_a_failed_commit_leaves_no_file(printing: Backend,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from backend import print3d_jobs

    def fail(*_args: object) -> None:
        raise RuntimeError("the database went away before the commit")

    monkeypatch.setattr(print3d_jobs, "job_json", fail)
    with pytest.raises(RuntimeError):
        upload(printing, cube_gcode(layers=2).text)
    assert list(store(printing).iterdir()) == []
    with printing.db.read() as session:
        assert session.scalars(select(Print3DJob)).all() == []


def test_what_a_crash_left_is_removed_at_start(db: Database, tmp_path: Path) -> None:
    import os
    import time

    with backend_with(db, tmp_path) as backend:
        job = uploaded(backend, cube_gcode(layers=2).text)
    directory = tmp_path / "store"
    old = time.time() - 7200
    leftovers = [directory / ".upload-0123abcd", directory / "999.gcode",
                 directory / "999.bgcode"]
    for path in leftovers:
        path.write_bytes(b"G1 E1\n")
        os.utime(path, (old, old))
    in_flight = directory / ".upload-fresh"  # another process may be writing it now
    in_flight.write_bytes(b"G1 E1\n")
    with backend_with(db, tmp_path):
        pass
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [".upload-fresh", f"{job['job_id']}.gcode"])


def test_a_bgcode_upload_is_kept_and_decoded_for_the_printer(printing: Backend,
                                                              tmp_path: Path) -> None:
    from tests.analysis.bgcode_writer import block, write_bgcode

    cube = cube_gcode()
    original = write_bgcode(tmp_path / "cube.bgcode", [
        block(0, b"Producer=PrusaSlicer 2.8.1\n"),
        block(3, b"printer_model=MK4\nfilament_type=PLA\n", compression=1),
        block(4, b"estimated printing time (normal mode)=1m 5s\n"),
        block(2, b"filament_diameter=1.75\nfilament_density=1.24\n"),
        block(1, cube.text.encode(), compression=1, parameters=b"\x00\x00"),
    ]).read_bytes()
    job = uploaded(printing, original, filename="cube.bgcode")
    assert job["format"] == "bgcode" and job["flags"] == []
    assert Decimal(job["ours"]["total_mm"]) == cube.filament_mm
    assert Decimal(job["grams"]) == expected_grams(cube.filament_mm)
    directory = store(printing)
    decoded = (directory / f"{job['job_id']}.gcode").read_text(encoding="utf-8")
    assert decoded.endswith(cube.text)  # after the metadata, written as comments
    assert (directory / f"{job['job_id']}.bgcode").read_bytes() == original
    assert len(list(directory.iterdir())) == 2
    broken = bytearray(original)
    broken[-10] ^= 0xFF  # inside the G-code block: its CRC fails
    refused = upload(printing, bytes(broken), filename="broken.bgcode")
    assert refused.status_code == 400 and refused.json()["code"] == "gcode_malformed"
    assert refused.json()["block"] == 4 and refused.json()["line"] is None
    assert len(list(directory.iterdir())) == 2


def test_uploads_are_rate_limited_per_terminal(db: Database, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with backend_with(db, tmp_path) as backend:
        from backend.rate_limits import TokenBucket

        context = backend.client.app.state.context  # type: ignore[attr-defined]
        monkeypatch.setattr(context.limits, "print3d_uploads", TokenBucket(1 / 3600, 1))
        uploaded(backend, cube_gcode(layers=2).text)
        refused = upload(backend, cube_gcode(layers=2).text)
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
