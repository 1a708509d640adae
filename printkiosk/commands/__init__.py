"""Subcommands of the printkiosk command, one module each (light imports only at module level)."""
