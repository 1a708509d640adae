"""printkiosk kiosk package."""
