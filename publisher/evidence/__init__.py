"""What the log proves: an incident's clocks and checklist, and the report in every
format (Markdown, JSON, HTML)."""
