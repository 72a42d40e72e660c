"""From an incident to approved text: rendering, length counting and splitting,
targeting, drafts, approvals and the advisor brief."""
