"""Incidents and what the cabinet does about them: the four cases and their playbooks,
the freeze, decisions and steps done by hand, who may do what."""
