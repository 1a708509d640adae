"""Allow ``python -m printkiosk``."""

import sys

from printkiosk.cli import main

sys.exit(main())
