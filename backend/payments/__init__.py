"""Payments: the PaymentGateway port, its adapters and what the bank_transfer one needs."""
