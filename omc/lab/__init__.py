"""The Lab: from a goal in plain words to an honestly evaluated model and a report."""
