"""ingestd: turns monitoring alerts into incidents people can act on."""

__version__ = "0.1.0"
