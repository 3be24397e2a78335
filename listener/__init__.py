"""listener — a self-hosted social-media and review listening daemon."""

__version__ = "0.1.0"
