"""How a default Linux build compiles a CPython tree, read from the tree's
own build data: the object lists and rules of Makefile.pre.in, the module
lines of the Modules/Setup* files (as makesetup reads them), and what
configure adds on Linux.  Pure functions of the files' text; the reading is
the scan's (scan/discovery)."""
from __future__ import annotations

import re
from collections.abc import Callable

VERSION_RE = re.compile(r'^#define\s+PY_VERSION\s+"([^"]+)"', re.M)
"""PY_VERSION in Include/patchlevel.h."""

LINUX_SUBSTITUTIONS = {"DYNLOADFILE": "dynload_shlib.o"}
"""configure substitutions, as configure resolves them on Linux."""

CONFIGURE_DEFINES = (
    ("Modules/_decimal/", ("CONFIG_64=1", "ANSI=1")),
    ("Modules/_dbmmodule.c", ("USE_GDBM_COMPAT",)),
    ("Modules/binascii.c", ("USE_ZLIB_CRC32",)),
)
"""Flags configure adds on x86_64 Linux (configure.ac: LIBMPDEC_CFLAGS for the
"ansi64" machine; DBM_CFLAGS with Debian's gdbm compatibility layer;
BINASCII_CFLAGS when zlib is found)."""

SKIPPED_OBJ_VARIABLES = frozenset({"DTRACE_OBJS", "LINK_PYTHON_OBJS", "MODOBJS"})
"""Object lists that are not C compiled on Linux by default."""

NON_LINUX_MODULE_CONDITIONS = frozenset({"MODULE__SCPROXY_TRUE"})
"""Setup.stdlib.in modules whose configure condition is false on Linux."""

CORE_DEFINES = ("Py_BUILD_CORE",)
"""What the Makefile defines for the core's objects and the programs."""
BUILTIN_MODULE_DEFINE = "Py_BUILD_CORE_BUILTIN"
"""What it adds for a module compiled into the interpreter (Setup.bootstrap, *static*)."""

SETUP_FILES = ("Setup.bootstrap.in", "Setup", "Setup.stdlib.in")
"""The module lists under Modules/, in the order makesetup reads them."""

DEFAULT_CONFIGURE_VARIABLES = {"CONFIG_ARGS": ""}
"""What `./configure` without arguments leaves in the Makefile variables that
setup.py reads (sysconfig.get_config_var); other Makefile variables are unknown."""

_SETUP_LINE_RE = re.compile(r"^(?:@(\w+)@)?([A-Za-z_][\w.]*)\s+(.*)$")
_MAKE_VAR_RE = re.compile(r"^([A-Z][A-Z0-9_]*)\s*=(.*)$")
_OBJ_RE = re.compile(r"(?:\$\(srcdir\)/)?((?:Objects|Python|Parser|Modules|Programs)/[\w./-]+?)\.o\b")
_SRCDIR_INCLUDE_RE = re.compile(r"-I\\?\$\(srcdir\)/((?:Modules|Include)/[\w./-]+)")
_RULE_RE = re.compile(r"^((?:Objects|Python|Parser|Modules|Programs)/[\w./-]+)\.o:[^\n]*\n((?:\t[^\n]*\n)+)", re.M)
_RECIPE_DEFINE_RE = re.compile(r"""-D(\w+)(?:=('[^']*'|"(?:[^"\\]|\\.)*"|[^\s\\]+))?""")
_GENERATED_HEADER_RE = re.compile(r"^((?:Python|Modules|Objects|Parser|Include)/[\w./-]+\.h)\s*:", re.M)
_PROGRAM_RULE_RE = re.compile(r"^Programs/[\w.-]+:([^\n]*)$", re.M)
_PYCONFIG_DEFINE_RE = re.compile(r"^#define[ \t]+(\w+)(?:[ \t]+(.*?))?[ \t]*$", re.M)
_PYCONFIG_TEMPLATE_RE = re.compile(r"^#[ \t]*undef[ \t]+(\w+)", re.M)
_MAKE_REFERENCE_RE = re.compile(r"\$\((\w+)\)|@\w+@")


def _make_variables(joined: str) -> dict[str, str]:
    """Variable assignments of a makefile whose continuation lines are joined."""
    variables: dict[str, str] = {}
    for line in joined.splitlines():
        match = _MAKE_VAR_RE.match(line)
        if match:
            variables[match.group(1)] = match.group(2)
    return variables


def core_sources(makefile: str, is_file: Callable[[str], bool]) -> list[str]:
    """Objects of the *_OBJS lists, and those the Programs/ link rules name:
    their sources (tree-relative) for which `is_file` holds."""
    sources: list[str] = []
    joined = re.sub(r"\\\n", " ", makefile)
    for prerequisites in _PROGRAM_RULE_RE.findall(joined):
        sources.extend(f"{obj}.c" for obj in _OBJ_RE.findall(prerequisites) if is_file(f"{obj}.c"))
    for name, value in _make_variables(joined).items():
        if "OBJS" not in name or name in SKIPPED_OBJ_VARIABLES:
            continue
        for key, replacement in LINUX_SUBSTITUTIONS.items():
            value = value.replace(f"@{key}@", replacement).replace(f"$({key})", replacement)
        for obj in _OBJ_RE.findall(value):
            for candidate in (f"{obj}.c", f"{obj}.c.in"):
                if is_file(candidate):
                    sources.append(candidate)
                    break
    return sources


def vendored_include_dirs(text: str) -> set[str]:
    """The -I$(srcdir)/... directories of Makefile.pre.in and configure.ac (bundled libraries)."""
    return set(_SRCDIR_INCLUDE_RE.findall(text))


def generated_header_names(makefile: str) -> set[str]:
    """The headers the Makefile has targets for (the build generates them)."""
    return set(_GENERATED_HEADER_RE.findall(makefile))


def setup_modules(text: str) -> list[tuple[str, list[str], list[str], bool]]:
    """(name, sources, flags, builtin) for each enabled module line."""
    modules = []
    builtin = True   # makesetup's default until a *shared* marker
    for raw in text.splitlines():
        # 3.11 comments out the module lines that setup.py builds instead.
        line = raw.strip()
        line = line[1:] if line.startswith("#@MODULE_") else line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("*") and line.endswith("*"):
            builtin = line == "*static*"
            continue
        match = _SETUP_LINE_RE.match(line)
        if not match or "=" in match.group(2):
            continue
        condition, name, rest = match.groups()
        if condition in NON_LINUX_MODULE_CONDITIONS:
            continue
        words = rest.split()
        sources = [w for w in words if w.endswith(".c")]
        flags = [w for w in words if w.startswith(("-D", "-I"))]
        modules.append((name, sources, flags, builtin))
    return modules


def module_flags(flags: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The defines and include directories of a Setup line's flags."""
    defines = tuple(f[2:] for f in flags if f.startswith("-D"))
    includes = tuple(f[2:].replace("$(srcdir)/", "") for f in flags if f.startswith("-I"))
    return defines, includes


def built_on_linux(module: str) -> bool:
    """Whether configure's condition for a setup.py extension holds on Linux."""
    return f"MODULE_{module.upper()}_TRUE" not in NON_LINUX_MODULE_CONDITIONS


def setup_py_config(root: str, configured: bool, pyconfig: str, template: str,
                    unknown: object) -> Callable[[str], object]:
    """sysconfig.get_config_var as setup.py sees it in an in-tree build:
    pyconfig.h's value (`pyconfig`: the tree's when it is `configured`, else
    the analysis profile's), 0 for the macros pyconfig.h.in (`template`)
    leaves undefined, the Makefile's for the rest (srcdir: the tree), else
    `unknown`."""
    defined: dict[str, object] = {}
    for name, value in _PYCONFIG_DEFINE_RE.findall(pyconfig):
        if re.fullmatch(r"-?\d+", value):
            defined[name] = int(value)
        elif configured:
            defined[name] = value
        else:   # the profile is the union of several releases: a string may be another release's
            defined[name] = unknown
    undefined = frozenset(_PYCONFIG_TEMPLATE_RE.findall(template))

    def config(name: str) -> object:
        if name == "srcdir":
            return root
        if name in DEFAULT_CONFIGURE_VARIABLES:
            return DEFAULT_CONFIGURE_VARIABLES[name]
        if name in defined:
            return defined[name]
        return 0 if name in undefined else unknown

    return config


def recipe_defines(makefile: str) -> dict[str, tuple[str, ...]]:
    """-D flags that the Makefile's own rule for an object passes, its make
    variables expanded (PY_CORE_CFLAGS holds -DPy_BUILD_CORE; configure's
    @SUBSTITUTIONS@ are empty), with make variables in string values replaced
    by their names (PREFIX="prefix")."""
    variables = _make_variables(re.sub(r"\\\n", " ", makefile))
    defines: dict[str, tuple[str, ...]] = {}
    for target, recipe in _RULE_RE.findall(re.sub(r"\\\n", "\n\t", makefile)):
        found = []
        for name, value in _RECIPE_DEFINE_RE.findall(recipe):
            if not value:
                found.append(name)
                continue
            # A string built by make or the shell at build time: its name stands in.
            found.append(f'{name}="{name}"' if '"' in value else f"{name}={value}")
        for name, value in _RECIPE_DEFINE_RE.findall(_expand(recipe, variables)):
            if name not in {f.split("=", 1)[0] for f in found}:
                found.append(name if not value else f'{name}="{name}"' if '"' in value else f"{name}={value}")
        if found:
            defines[target] = tuple(found)
    return defines


def _expand(text: str, variables: dict[str, str]) -> str:
    """The make variables in text, expanded (unknown ones and configure's
    @SUBSTITUTIONS@ are empty)."""
    def substitute(match: re.Match[str], seen: frozenset[str]) -> str:
        name = match.group(1)
        if name is None or name in seen or name not in variables:
            return ""
        return _MAKE_REFERENCE_RE.sub(lambda m: substitute(m, seen | {name}), variables[name])
    return _MAKE_REFERENCE_RE.sub(lambda m: substitute(m, frozenset()), text)


def configure_defines(path: str, defines: tuple[str, ...]) -> tuple[str, ...]:
    """configure's flags for the file, unless its build line already sets
    those macros (setup.py's define_macros, before 3.11, do what configure does later)."""
    named = {d.split("=", 1)[0] for d in defines}
    return tuple(d for prefix, flags in CONFIGURE_DEFINES if path.startswith(prefix)
                 and not named & {f.split("=", 1)[0] for f in flags} for d in flags)
