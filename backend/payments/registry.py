"""The gateway backend.toml names, built once per process. Each adapter's module is
imported only when it is the one configured (the stripe library is not loaded for a
site on the demo or bank_transfer gateway)."""

from __future__ import annotations

from collections.abc import Callable

from backend.config import BackendConfig
from backend.payments.gateway import GatewayError, PaymentGateway


def _demo(config: BackendConfig, secret: bytes) -> PaymentGateway:
    from backend.payments.demo_gateway import DemoGateway

    assert config.payments.public_base_url is not None  # the config refuses it missing
    return DemoGateway(secret, config.payments.public_base_url)


def _stripe(config: BackendConfig, secret: bytes) -> PaymentGateway:
    from backend.payments.stripe_gateway import StripeGateway

    return StripeGateway.from_settings(config.payments.stripe)


def _bank_transfer(config: BackendConfig, secret: bytes) -> PaymentGateway:
    from backend.payments.bank_transfer import BankTransferGateway

    return BankTransferGateway.from_config(config, secret)


# Name -> factory: one line per adapter.
FACTORIES: dict[str, Callable[[BackendConfig, bytes], PaymentGateway]] = {
    "demo": _demo,
    "stripe": _stripe,
    "bank_transfer": _bank_transfer,
}


def make_gateway(config: BackendConfig, secret: bytes) -> PaymentGateway | None:
    """The configured gateway, or None (no top-ups). GatewayError when it cannot be
    built (a key file that cannot be read): the server refuses to start."""
    name = config.payments.gateway
    if name is None:
        return None
    factory = FACTORIES.get(name)
    if factory is None:
        raise GatewayError(f"payments.gateway {name!r}: this build has no such adapter")
    return factory(config, secret)
