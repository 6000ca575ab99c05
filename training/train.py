#!/usr/bin/env python
"""Fine-tune a token-classification model on the conflict-spans corpus.

    python training/train.py --output-dir runs/default
    python training/train.py --config training/configs/default.yaml --output-dir runs/x --learning-rate 1e-4
    torchrun --nproc_per_node 2 training/train.py --output-dir runs/ddp

Every argument is listed by ``--help``; defaults are the tuned default configuration.
"""

from __future__ import annotations

import sys

from conflict_spans.model.train import main

if __name__ == "__main__":
    sys.exit(main())
