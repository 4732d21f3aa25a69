"""Units and their flags from a tree's build files, on a small fake tree of the setup.py era."""
from __future__ import annotations

import textwrap
from pathlib import Path

from analyzer.model import UnitKind
from analyzer.sources import find_tree, list_units, take_inventory

SETUP_PY = '''
import os, sys, sysconfig
from distutils.core import Extension
from distutils.command.build_ext import build_ext

MACOS = sys.platform == 'darwin'

class PyBuildExt(build_ext):
    def build_extensions(self):
        self.srcdir = os.path.abspath(sysconfig.get_config_var('srcdir'))
        shared_math = 'Modules/_math.o'
        self.add(Extension('_json', ['_json.c'], extra_compile_args=['-DPy_BUILD_CORE_MODULE']))
        self.add(Extension('math', ['mathmodule.c'], extra_objects=[shared_math]))
        self.add(Extension('posix', ['posixmodule.c']))
        self.add(Extension('binascii', ['binascii.c'], extra_compile_args=['-DUSE_ZLIB_CRC32']))
        if sysconfig.get_config_var('SIZEOF_SIZE_T') == 8:
            define_macros = [('CONFIG_64', '1'), ('ASM', '1')]
        else:
            define_macros = [('CONFIG_32', '1')]
        self.add(Extension('_decimal', define_macros=define_macros,
                           include_dirs=[os.path.join(self.srcdir, 'Modules', '_decimal', 'libmpdec'),
                                         '/usr/include/elsewhere'],
                           sources=['_decimal/_decimal.c', '_decimal/libmpdec/basearith.c']))
        if MACOS:
            self.add(Extension('_mac', ['_mac.c']))

    def add(self, ext):
        self.extensions.append(ext)
'''


def make_tree(root: Path) -> Path:
    files = {
        "Include/patchlevel.h": '#define PY_VERSION "3.9.2"\n',
        "Makefile.pre.in": """
            PY_CORE_CFLAGS=\t$(PY_STDMODULE_CFLAGS) -DPy_BUILD_CORE
            OBJECT_OBJS=\tObjects/abstract.o
            Modules/_math.o: Modules/_math.c Modules/_math.h
            \t$(CC) -c $(CCSHARED) $(PY_CORE_CFLAGS) -o $@ $<
            """,
        "pyconfig.h.in": "#undef SIZEOF_SIZE_T\n",
        "Modules/Setup": "posix -DPy_BUILD_CORE_BUILTIN -I$(srcdir)/Include/internal posixmodule.c\n",
        "setup.py": SETUP_PY,
        "Objects/abstract.c": "",
        "Modules/posixmodule.c": "",
        "Modules/_json.c": "",
        "Modules/mathmodule.c": "",
        "Modules/_math.c": "",
        "Modules/binascii.c": "",
        "Modules/_mac.c": "",
        "Modules/_decimal/_decimal.c": "",
        "Modules/_decimal/libmpdec/basearith.c":
            '#include "present.h"\n#include "setjmp.h"\n#include "absent.h"\n#include <stdio.h>\n',
        "Modules/_decimal/libmpdec/present.h": "",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_setup_py_extensions_are_units_with_their_own_flags(tmp_path):
    units = {u.path: u for u in list_units(find_tree(str(make_tree(tmp_path))))}
    assert sorted(units) == ["Modules/_decimal/_decimal.c", "Modules/_decimal/libmpdec/basearith.c",
                             "Modules/_json.c", "Modules/_math.c", "Modules/binascii.c", "Modules/mathmodule.c",
                             "Modules/posixmodule.c",
                             "Objects/abstract.c"]
    assert units["Modules/_json.c"].defines == ("Py_BUILD_CORE_MODULE",)
    assert units["Modules/_json.c"].kind is UnitKind.SHARED_MODULE
    # An object setup.py links in is made by its Makefile rule, whose variables hold its flags.
    assert units["Modules/_math.c"].defines == ("Py_BUILD_CORE",)
    # Setup's line wins over setup.py's Extension for the same module.
    assert units["Modules/posixmodule.c"].kind is UnitKind.BUILTIN_MODULE
    assert set(units["Modules/posixmodule.c"].defines) == {"Py_BUILD_CORE_BUILTIN"}
    # setup.py sets what configure sets in later releases: configure's flags are not added again.
    assert units["Modules/binascii.c"].defines == ("USE_ZLIB_CRC32",)
    assert units["Modules/_decimal/_decimal.c"].defines == ("CONFIG_64=1", "ASM=1")
    assert units["Modules/_decimal/_decimal.c"].include_dirs == ("Modules/_decimal/libmpdec",)


def test_a_quoted_include_of_a_c_library_header_the_tree_lacks_is_a_system_header(tmp_path):
    tree = find_tree(str(make_tree(tmp_path)))
    system = take_inventory(tree, str(tmp_path / "memo")).system_includes
    assert {"setjmp.h", "stdio.h"} <= system
    assert "present.h" not in system
    assert "absent.h" not in system     # a header the tree lacks stays missing (CG902)
    # the memo gives the same answer
    assert take_inventory(tree, str(tmp_path / "memo")).system_includes == system
