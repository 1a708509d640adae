"""printkiosk billing package."""
