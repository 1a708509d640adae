"""Page sizes are named by the nearest standard size within 3 %, in either orientation."""

from __future__ import annotations

import pytest

from analysis import paper_size


@pytest.mark.parametrize(
    ("width", "height", "name"),
    [
        (595.28, 841.89, "A4"),
        (842, 595, "A4"),
        (841.89, 1190.55, "A3"),
        (420, 595, "A5"),
        (612, 792, "Letter"),
        (595, 792, "Letter"),
        (612, 1008, "Legal"),
        (1224, 792, "Tabloid"),
        (649, 323, "custom"),
        (500, 500, "custom"),
        (612, 935, "custom"),
    ],
)
def test_nearest_named_size(width: float, height: float, name: str) -> None:
    size = paper_size(width, height)
    assert size.name == name
    assert (size.width, size.height) == (round(width, 2), round(height, 2))
