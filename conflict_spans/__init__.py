"""conflict-spans: an annotated corpus of conflict news and the tools around it."""

__version__ = "0.1.0"
