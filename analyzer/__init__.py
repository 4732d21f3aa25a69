"""cglobals: find, classify and move CPython's C globals.

The jobs are library functions (see jobs.py): scan, classify, check, patch,
races and report.  Their names here are the functions; the packages of the
same names (analyzer.scan, analyzer.classify, ...) are imported by their
dotted paths (`from analyzer.scan.engine import ScanOptions`)."""
__version__ = "0.1.0"

# The job packages are loaded before the functions take their names: a package
# first imported later would put itself back in a function's place.
from . import classify as _classify_package  # noqa: E402, F401
from . import patch as _patch_package  # noqa: E402, F401
from . import races as _races_package  # noqa: E402, F401
from . import report as _report_package  # noqa: E402, F401
from . import scan as _scan_package  # noqa: E402, F401
from .jobs import (  # noqa: E402
    Checked,
    ConfigError,
    OptionError,
    OutputError,
    Patched,
    RaceReport,
    Reported,
    ScanOptions,
    TreeError,
    check,
    classify,
    declarations,
    patch,
    races,
    report,
    scan,
)

__all__ = ["Checked", "ConfigError", "OptionError", "OutputError", "Patched", "RaceReport", "Reported", "ScanOptions",
           "TreeError", "__version__", "check", "classify", "declarations", "patch", "races", "report", "scan"]
