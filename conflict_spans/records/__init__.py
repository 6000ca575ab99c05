"""The records stage: casualty figures as rows."""
