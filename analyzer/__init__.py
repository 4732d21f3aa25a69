"""cglobals: find, classify and move CPython's C globals."""
__version__ = "0.1.0"
