"""Billing codes in a test backend, imported the way an administrator does it.

The demo data has users but no billing codes, so tests that need codes run the real
``printkiosk backend import-billing-codes`` command against their own backend's
configuration (the backend process keeps serving meanwhile).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# client -> projects; carol (group staff) may use ACME and its projects, and GLOBEX's
# audit; bob only ACME's website project.
CODES_CSV = """code,name,parent,active,assigned_to
ACME,ACME Corp,,true,group:staff
ACME-WEB,Website redesign,ACME,true,user:bob
ACME-PRINT,Print campaign,ACME,true,
GLOBEX,Globex,,true,
GLOBEX-AUDIT,Annual audit,GLOBEX,true,user:carol
"""


def import_billing_codes(data_dir: Path, csv_text: str = CODES_CSV) -> None:
    """Import ``csv_text`` into the backend whose ``backend.toml`` is in ``data_dir``."""
    csv_file = data_dir / "billing-codes.csv"
    csv_file.write_text(csv_text, encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "printkiosk", "backend", "import-billing-codes",
         "--config", str(data_dir / "backend.toml"), "--file", str(csv_file)],
        check=True, capture_output=True, timeout=60,
    )
