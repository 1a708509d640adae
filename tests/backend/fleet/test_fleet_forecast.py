"""Supply forecasts: a least-squares line through the levels since the last refill; exact
on a linear history, close on a noisy one, none when the level does not fall or too few
readings remain."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from backend.fleet.forecast import Level, fit

START = datetime(2026, 9, 1, 6, tzinfo=UTC)


def _daily(levels: list[int], every_h: float = 24.0) -> list[Level]:
    return [Level(START + timedelta(hours=every_h * n), level) for n, level in
            enumerate(levels)]


def test_a_linear_history_is_forecast_exactly() -> None:
    # 2 points a day for 20 days: 90 % falling to 50 %; empty 45 days after the start.
    history = _daily([90 - 2 * n for n in range(21)])
    forecast = fit("Black Toner", history)
    assert forecast.points == 21 and forecast.days_of_data == 20.0
    assert forecast.percent_per_day == pytest.approx(-2.0, abs=1e-12)
    assert forecast.runs_out_at is not None
    assert abs((forecast.runs_out_at - (START + timedelta(days=45))).total_seconds()) < 1
    assert forecast.days_left(START + timedelta(days=40)) == pytest.approx(5.0)


def test_a_noisy_history_is_forecast_within_a_day() -> None:
    jitter = random.Random(19)
    true_empty = START + timedelta(days=60)  # 1.5 % a day from 90 %
    history = [Level(START + timedelta(hours=6 * n),
                     round(90 - 1.5 * n / 4 + jitter.uniform(-3, 3))) for n in range(4 * 30)]
    forecast = fit("Cyan Toner", history)
    assert forecast.runs_out_at is not None
    assert abs((forecast.runs_out_at - true_empty).total_seconds()) < 86_400
    assert forecast.percent_per_day == pytest.approx(-1.5, abs=0.1)


def test_the_history_starts_again_at_a_refill() -> None:
    before = _daily([40, 30, 20, 10])                       # the old cartridge
    after = [Level(START + timedelta(days=4 + n), 100 - 5 * n) for n in range(5)]
    forecast = fit("Black Toner", before + after)
    assert forecast.points == 5 and forecast.days_of_data == 4.0
    assert forecast.runs_out_at is not None
    assert abs((forecast.runs_out_at - (START + timedelta(days=24))).total_seconds()) < 1


@pytest.mark.parametrize(("levels", "every_h", "reason"), [
    ([80, 80, 80, 80], 24.0, "not_falling"),
    ([50, 51, 52, 53], 24.0, "not_falling"),
    ([80, 70], 24.0, "few_points"),
    ([80, 79, 78, 77], 1.0, "short"),                       # three hours of data
])
def test_no_forecast_without_a_falling_line_over_enough_readings(
        levels: list[int], every_h: float, reason: str) -> None:
    forecast = fit("Waste Toner", _daily(levels, every_h))
    assert forecast.runs_out_at is None and forecast.reason == reason
    assert forecast.days_left(START) is None
