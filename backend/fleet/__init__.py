"""The fleet (issue 19): clients, their sites and devices, the page counters and supply
levels the kiosks read from each device, and what is derived from them (monthly volumes
that survive counter resets, unattributed pages, supply forecasts)."""
