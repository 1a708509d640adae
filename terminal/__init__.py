"""printkiosk terminal package."""
