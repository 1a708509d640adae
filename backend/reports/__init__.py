"""Usage reports (issue 19): who printed, copied, scanned or 3D-printed what, where, and
what it cost, grouped and filtered at will, computed in SQL (one GROUP BY query)."""
