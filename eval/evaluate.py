"""Score a model and the baselines on the held-out test split.

    python eval/evaluate.py --model DIR [--out eval/results] [--baselines spacy-pretrained,spacy-finetuned] [--re3d PATH]

The same as ``conflict-spans evaluate``; see eval/README.md.
"""

import sys

from conflict_spans.cli.evaluation import main

if __name__ == "__main__":
    sys.exit(main())
