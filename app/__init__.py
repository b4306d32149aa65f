"""timetrack: the domain core. Nothing in this package knows about HTTP, Discord or GitHub JSON."""

__version__ = "0.1.0"
