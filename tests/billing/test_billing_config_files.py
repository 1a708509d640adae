"""Every example price list and quota policy in config/ loads (ARCHITECTURE rule 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing import PriceList, QuotaPolicy, load_price_list, load_quota_policy
from tests.billing.support import REPO

PRICE_LISTS = sorted((REPO / "config" / "pricelists").glob("**/*.toml"))
QUOTAS = sorted((REPO / "config" / "quotas").glob("**/*.toml"))


def test_the_examples_exist() -> None:
    assert PRICE_LISTS and QUOTAS


@pytest.mark.parametrize("path", PRICE_LISTS, ids=lambda p: p.name)
def test_price_list_loads(path: Path) -> None:
    assert isinstance(load_price_list(path.read_text(encoding="utf-8"), str(path)), PriceList)


@pytest.mark.parametrize("path", QUOTAS, ids=lambda p: p.name)
def test_quota_policy_loads(path: Path) -> None:
    assert isinstance(load_quota_policy(path.read_text(encoding="utf-8"), str(path)), QuotaPolicy)
