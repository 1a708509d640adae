"""Payment gateways for top-ups: the port (``gateway``) and its adapters."""
