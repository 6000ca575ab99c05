"""``python -m conflict_spans.model.hub DIR``: see conflict_spans/model/hub/__init__.py."""

import sys

from conflict_spans.model.hub import main

sys.exit(main())
