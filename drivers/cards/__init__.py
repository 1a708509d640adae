"""Card readers for the kiosk: PC/SC, keyboard-wedge (evdev) and a simulated reader.

A standalone library with its own types (see :mod:`drivers.cards.events`). Importing it
never opens a device or a socket and works without pyscard, evdev or pcscd: each adapter
says whether it can run here through ``is_usable()``.
"""
