"""The one error type of statements: a refused action, said in words for the page/CLI."""

from __future__ import annotations


class StatementError(Exception):
    """An action on a plan, a statement or a payment request that is not allowed."""
