"""The front end: one translation unit of a checkout -> its records (globals, uses,
functions, initializers).  Generic C machinery under CPython's build flags;
pycparser's nodes never leave this package."""
