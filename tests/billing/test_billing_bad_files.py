"""Bad price-list and quota files: each gives a message naming file, key, value, expectation."""
# ruff: noqa: E501  (one case per line: the file text and its full expected message side by side)

from __future__ import annotations

import pytest

from billing import ConfigError, load_price_list, load_quota_policy

HEAD = '[price_list]\nname = "x"\ncurrency = "EUR"\n'

BAD_PRICE_LISTS = [
    ("not toml", "[price_list\n", "bad.toml: is not valid TOML"),
    ("no header", '[print]\nmono = { A4 = "0.05" }\n', "bad.toml: price_list: missing, expected a table"),
    ("no name", '[price_list]\ncurrency = "EUR"\n', "bad.toml: price_list.name: missing, expected a non-empty string"),
    ("unknown currency", '[price_list]\nname = "x"\ncurrency = "EURO"\n', "bad.toml: price_list.currency: 'EURO' must be an ISO 4217 code"),
    ("unknown top key", HEAD + "[printing]\n", "bad.toml: printing: {} is not a known key; allowed here: copy, fax, price_list, print, print3d, scan, volume"),
    ("float price", HEAD + "[print]\nmono = { A4 = 0.05 }\n", "bad.toml: print.mono.A4: 0.05 must be a decimal amount written as a string"),
    ("negative price", HEAD + '[print]\nmono = { A4 = "-0.05" }\n', "bad.toml: print.mono.A4: '-0.05' must not be negative"),
    ("not a number", HEAD + '[print]\nmono = { A4 = "five" }\n', "bad.toml: print.mono.A4: 'five' must be a decimal amount"),
    ("unknown size", HEAD + '[print]\nmono = { A6 = "0.05" }\n', "bad.toml: print.mono.A6: '0.05' is not a known key; allowed here: A3, A4, A5, Legal, Letter, Tabloid"),
    ("duplex rate half given", HEAD + '[print]\nmono = { A4 = { simplex = "0.05" } }\n', "bad.toml: print.mono.A4.duplex: missing, expected a decimal amount"),
    ("bad scope", HEAD + 'scope = "team"\n', "bad.toml: price_list.scope: 'team' must be one of \"default\", \"device_model\""),
    ("scope without target", HEAD + 'scope = "group"\n', "bad.toml: price_list.target: missing, expected a non-empty string"),
    ("default with target", HEAD + 'target = "staff"\n', "bad.toml: price_list.target: 'staff' is only allowed when scope is not \"default\""),
    ("date as string", HEAD + 'effective_from = "2026-01-01"\n', "bad.toml: price_list.effective_from: '2026-01-01' must be a TOML date such as 2026-09-01 (no quotes)"),
    ("bad charging", HEAD + 'duplex_charging = "per_page"\n', "bad.toml: price_list.duplex_charging: 'per_page' must be one of \"per_side\", \"per_sheet\""),
    ("tiers from 0", HEAD + '[[volume.tiers.mono]]\nfrom = 0\nprice = "1"\n', "bad.toml: volume.tiers.mono[0].from: 0 must be 1: the first tier starts at the first page"),
    ("tiers not rising", HEAD + '[[volume.tiers.mono]]\nfrom = 1\nprice = "2"\n[[volume.tiers.mono]]\nfrom = 1\nprice = "1"\n', "bad.toml: volume.tiers.mono[1].from: 1 must be greater than the previous tier's from (1)"),
    ("tier price missing", HEAD + '[[volume.tiers.colour]]\nfrom = 1\n', "bad.toml: volume.tiers.colour[0].price: missing, expected a decimal amount"),
    ("included negative", HEAD + "[volume]\nincluded = { mono = -5 }\n", "bad.toml: volume.included.mono: -5 must be a whole number, 0 or more"),
    ("volume functions", HEAD + '[volume]\nfunctions = ["print", "print3d"]\n', "bad.toml: volume.functions: ['print', 'print3d'] must be a non-empty list of \"print\", \"copy\", \"scan\", \"fax\""),
    ("per sheet with tiers", HEAD + 'duplex_charging = "per_sheet"\n[[volume.tiers.mono]]\nfrom = 1\nprice = "1"\n', "bad.toml: price_list.duplex_charging: 'per_sheet' must be \"per_side\" when [volume] has tiers"),
    ("3d without materials", HEAD + '[print3d]\nper_hour = "1"\n', "bad.toml: print3d.per_gram: missing, expected a table"),
    ("3d float gram price", HEAD + "[print3d]\nper_gram = { PLA = 0.05 }\n", "bad.toml: print3d.per_gram.PLA: 0.05 must be a decimal amount"),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in BAD_PRICE_LISTS],
                         ids=[name for name, _, _ in BAD_PRICE_LISTS])
def test_bad_price_list_message(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_price_list(text, "bad.toml")
    assert expected in str(caught.value), str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    text = '[price_list]\ncurrency = "EURO"\n[print]\nmono = { A4 = 0.05, A6 = "1" }\n'
    with pytest.raises(ConfigError) as caught:
        load_price_list(text, "many.toml")
    keys = [p.key for p in caught.value.problems]
    assert keys == ["price_list.name", "price_list.currency", "print.mono.A6", "print.mono.A4"]


QUOTA = '[quota]\nname = "q"\ncurrency = "EUR"\nallocation = "10.00"\n'
MONTHLY = '[quota.refill]\nschedule = "monthly"\n'

BAD_QUOTAS = [
    ("no refill", QUOTA, "bad.toml: quota.refill: missing, expected a table"),
    ("cap missing", QUOTA + 'carry_over = "capped"\n' + MONTHLY, "bad.toml: quota.carry_over_cap: missing, required when carry_over = \"capped\""),
    ("cap without capped", QUOTA + 'carry_over_cap = "5.00"\n' + MONTHLY, "bad.toml: quota.carry_over_cap: '5.00' is only allowed when carry_over = \"capped\""),
    ("too many decimals", QUOTA.replace('"10.00"', '"10.001"') + MONTHLY, "bad.toml: quota.allocation: '10.001' has more decimals than EUR allows"),
    ("bad order", QUOTA + 'consumption_order = "cheapest"\n' + MONTHLY, "bad.toml: quota.consumption_order: 'cheapest' must be one of \"virtual_first\", \"personal_first\""),
    ("bad weekday", QUOTA + '[quota.refill]\nschedule = "weekly"\nweekday = "mon"\n', "bad.toml: quota.refill.weekday: 'mon' must be one of monday, tuesday"),
    ("day for weekly", QUOTA + '[quota.refill]\nschedule = "weekly"\nday = 3\n', "bad.toml: quota.refill.day: 3 is only allowed with schedule = \"monthly\""),
    ("day 32", QUOTA + MONTHLY + "day = 32\n", "bad.toml: quota.refill.day: 32 must be a day of the month, 1..31"),
    ("term dates decreasing", QUOTA + '[quota.refill]\nschedule = "term"\nterm_dates = [2026-09-01, 2026-01-05]\n', "bad.toml: quota.refill.term_dates: [datetime.date(2026, 9, 1), datetime.date(2026, 1, 5)] must be increasing dates without repeats"),
    ("term without dates", QUOTA + '[quota.refill]\nschedule = "term"\n', "bad.toml: quota.refill.term_dates: missing, must be a non-empty array of TOML dates"),
    ("unknown refill key", QUOTA + MONTHLY + "every = 2\n", "bad.toml: quota.refill.every: 2 is not a known key; allowed here: day, schedule, term_dates, weekday"),
    ("device scope", QUOTA + 'scope = "device"\ntarget = "mfp"\n' + MONTHLY, "bad.toml: quota.scope: 'device' must be one of \"default\", \"group\", \"user\""),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in BAD_QUOTAS],
                         ids=[name for name, _, _ in BAD_QUOTAS])
def test_bad_quota_message(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_quota_policy(text, "bad.toml")
    assert expected in str(caught.value), str(caught.value)
