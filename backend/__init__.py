"""printkiosk backend package."""
