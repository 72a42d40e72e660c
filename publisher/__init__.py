"""publish: a crisis response publisher."""

__version__ = "0.1.0"
