"""What the log proves: one view of an incident (`view`), read once from the log, and
what is said from it: its clocks and checklist, and the report in every format
(Markdown, JSON, HTML)."""
