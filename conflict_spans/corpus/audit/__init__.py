"""``conflict-spans audit``: a review list of likely annotation errors.

It flags, it does not decide (annotation/GUIDELINES.md §11): every finding is
a place for a person to check against the spec and the guidelines. Three
families of findings:

- **consistency**: the same surface string (case-insensitive) labelled
  differently, or labelled in one place and left plain in another, where the
  occurrences share the word before and the word after;
- **rules**: spec rules and project rulings that code can test beyond
  ``validate`` (leading determiners and quantifiers, direction adjectives left
  outside a place, extension nouns inside a place, nationality adjectives
  alone, counts without a number or with the wrong extent, sources without a
  saying cue, sayers and withheld sayers labelled as parties, descriptions
  before names, names that only modify an apposition's noun, weapons that are
  the agent of an attack verb left unlabelled);
- **predictions** (with ``--predictions``): where a model's predictions for
  the corpus documents, e.g. from k-fold cross-validation
  (``training/kfold.py``), disagree with gold, the most confident first.

With ``--agreement SECOND`` the command compares two annotations of the same
documents instead (inter-annotator agreement, :mod:`conflict_spans.corpus.agreement`)
and lists every disagreement.

The command always exits 0 when its inputs could be read and belong together:
the list is for review, not a gate. Predictions for documents gold lacks, a
duplicated id, or two annotations with no document in common are errors
(exit 1); gold documents without a prediction, documents on one side of an
agreement only, and spans off word edges (which no check reads) are listed.
"""

from conflict_spans.corpus.audit.consistency import consistency_findings
from conflict_spans.corpus.audit.disagreements import DISAGREEMENT_KINDS, agreement_report, disagreements, prediction_findings, prediction_problems
from conflict_spans.corpus.audit.findings import FINDING_TYPES, Finding, Words, context_of, sentence_bounds
from conflict_spans.corpus.audit.report import agreement_markdown, audit, format_counts, provenance_findings, to_json, to_markdown
from conflict_spans.corpus.audit.rules import rule_findings

__all__ = ["DISAGREEMENT_KINDS", "FINDING_TYPES", "Finding", "Words", "agreement_markdown", "agreement_report", "audit", "consistency_findings",
           "context_of", "disagreements", "format_counts", "prediction_findings", "prediction_problems", "provenance_findings", "rule_findings",
           "sentence_bounds", "to_json", "to_markdown"]
