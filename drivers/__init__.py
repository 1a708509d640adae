"""printkiosk drivers package."""
