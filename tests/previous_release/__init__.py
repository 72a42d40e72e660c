"""The store code of the release before the second backend (`git show a89b10c:publisher/store.py`),
kept verbatim so a test can build a log the way that release did and open it with today's code."""
