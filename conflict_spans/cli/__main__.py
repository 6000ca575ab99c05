"""``python -m conflict_spans.cli``."""

import sys

from conflict_spans.cli import main

sys.exit(main())
