"""The small IPP codec: requests encode as RFC 8010 says, responses decode, bad bytes fail."""

from __future__ import annotations

import struct

import pytest

from drivers.cups import CupsError, ipp


def test_request_puts_charset_and_language_first_and_repeats_multi_values() -> None:
    data = ipp.encode_request(
        ipp.GET_JOBS, 7, {"requested-attributes": ipp.attr(ipp.KEYWORD, "job-id", "job-name")}
    )
    assert data[:8] == bytes([1, 1, 0x00, 0x0A, 0, 0, 0, 7])
    assert data[8] == 0x01  # operation group
    assert data.index(b"attributes-charset") < data.index(b"attributes-natural-language")
    # the second value carries an empty name (additional value)
    assert struct.pack(">BH", ipp.KEYWORD, 0) + struct.pack(">H", 8) + b"job-name" in data
    assert data.endswith(b"\x03")


def test_response_round_trip_through_the_decoder() -> None:
    # a response is laid out like a request: reuse the encoder, then patch the status
    data = bytearray(
        ipp.encode_request(
            0,
            1,
            {"status-message": ipp.attr(ipp.TEXT, "no such job")},
            job_attrs={
                "job-id": ipp.attr(ipp.INTEGER, 42),
                "job-state-reasons": ipp.attr(ipp.KEYWORD, "a", "b"),
                "job-preserved": ipp.attr(ipp.BOOLEAN, True),
            },
        )
    )
    data[2:4] = struct.pack(">H", 0x0406)

    response = ipp.decode_response(bytes(data))

    assert not response.ok and response.status == 0x0406
    assert response.message == "no such job"
    (job,) = response.group("job")
    assert job == {"job-id": [42], "job-state-reasons": ["a", "b"], "job-preserved": [True]}


def test_truncated_response_is_a_cups_error() -> None:
    data = ipp.encode_request(0, 1, {"status-message": ipp.attr(ipp.TEXT, "x" * 20)})
    with pytest.raises(CupsError, match="malformed"):
        ipp.decode_response(data[:-10])
