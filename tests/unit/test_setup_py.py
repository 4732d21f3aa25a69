"""setup.py read as a default Linux build runs it: snippet in, extensions out."""
from __future__ import annotations

import textwrap

from analyzer.scan.setup_py import UNKNOWN, read_extensions

HEADER = '''
import os, sys, sysconfig
from distutils.core import Extension
from distutils.command.build_ext import build_ext

def get_platform():
    if "_PYTHON_HOST_PLATFORM" in os.environ:
        return os.environ["_PYTHON_HOST_PLATFORM"]
    return sys.platform

HOST_PLATFORM = get_platform()
MACOS = (HOST_PLATFORM == 'darwin')
MS_WINDOWS = (HOST_PLATFORM == 'win32')
'''


def extensions(body: str, config: dict[str, object] | None = None, root: str = "/src") -> list[tuple]:
    values = {"CONFIG_ARGS": "", "srcdir": root, **(config or {})}
    found = read_extensions(HEADER + textwrap.dedent(body), root, lambda name: values.get(name, UNKNOWN))
    return [(e.name, e.sources, e.defines, e.include_dirs) for e in found]


def test_a_framework_entry_point_is_evaluated_and_platform_branches_are_pruned():
    assert extensions('''
        class PyBuildExt(build_ext):
            def build_extensions(self):
                self.detect_modules()
                build_ext.build_extensions(self)
            def detect_modules(self):
                self.add(Extension('math', ['mathmodule.c'], extra_compile_args=['-DPy_BUILD_CORE_MODULE']))
                if MACOS and self.detect_darwin():
                    return
                if not MS_WINDOWS:
                    self.add(Extension('termios', ['termios.c']))
            def detect_darwin(self):
                self.add(Extension('_scproxy', ['_scproxy.c']))
                return True
            def add(self, ext):
                self.extensions.append(ext)
        ''') == [("math", ("mathmodule.c",), ("Py_BUILD_CORE_MODULE",), ()),
                 ("termios", ("termios.c",), (), ())]


def test_a_test_the_build_decides_takes_both_branches():
    assert extensions('''
        def detect(self):
            curses_defines = []
            if self.compiler.find_library_file(self.lib_dirs, 'ncursesw'):
                curses_library = 'ncursesw'
            else:
                curses_library = 'ncurses'
            if curses_library == 'ncursesw':
                curses_defines.append(('HAVE_NCURSESW', '1'))
            elif MACOS:
                curses_defines.append(('_XOPEN_SOURCE_EXTENDED', '1'))
            Extension('_curses', ['_cursesmodule.c'], define_macros=curses_defines)
        ''') == [("_curses", ("_cursesmodule.c",), ("HAVE_NCURSESW=1",), ())]


def test_lists_are_shared_as_in_python():
    # pyexpat's define_macros list is appended to for _elementtree after pyexpat's
    # Extension exists: distutils compiles both with the final list.
    assert extensions('''
        def detect(self):
            if '--with-system-expat' in sysconfig.get_config_var("CONFIG_ARGS"):
                define_macros = []
                expat_sources = []
            else:
                define_macros = [('HAVE_EXPAT_CONFIG_H', '1')]
                expat_sources = ['expat/xmlparse.c']
            Extension('pyexpat', define_macros=define_macros,
                      include_dirs=[os.path.join(sysconfig.get_config_var('srcdir'), 'Modules', 'expat')],
                      sources=['pyexpat.c'] + expat_sources)
            define_macros.append(('USE_PYEXPAT_CAPI', None))
            ext = Extension('_elementtree', define_macros=define_macros, sources=['_elementtree.c'])
            ext.extra_compile_args.append('-DLATE=1')
        ''') == [("pyexpat", ("pyexpat.c", "expat/xmlparse.c"), ("HAVE_EXPAT_CONFIG_H=1", "USE_PYEXPAT_CAPI"),
                  ("/src/Modules/expat",)),
                 ("_elementtree", ("_elementtree.c",), ("HAVE_EXPAT_CONFIG_H=1", "USE_PYEXPAT_CAPI", "LATE=1"), ())]


def test_loops_formatting_and_config_variables():
    assert extensions('''
        def detect(self):
            for loc in ('kr', 'jp'):
                Extension('_codecs_%s' % loc, ['cjkcodecs/_codecs_%s.c' % loc])
            config = {'x64': [('CONFIG_64', '1'), ('ASM', '1')], 'ansi32': [('CONFIG_32', '1')]}
            machine = os.environ.get('PYTHON_DECIMAL_WITH_MACHINE')
            if machine:
                define_macros = config[machine]
            elif sysconfig.get_config_var('SIZEOF_SIZE_T') == 8:
                define_macros = config['x64']
            else:
                define_macros = config['ansi32']
            Extension('_decimal', sources=['_decimal/_decimal.c'], define_macros=define_macros)
        ''', {"SIZEOF_SIZE_T": 8}) == [
        ("_codecs_kr", ("cjkcodecs/_codecs_kr.c",), (), ()),
        ("_codecs_jp", ("cjkcodecs/_codecs_jp.c",), (), ()),
        ("_decimal", ("_decimal/_decimal.c",), ("CONFIG_64=1", "ASM=1"), ())]


def test_helpers_closures_keyword_arguments_and_unknown_loops():
    assert extensions('''
        def detect(self):
            config_vars = sysconfig.get_config_vars()
            def flags(name, prefix='-D'):
                return [prefix + name]
            kwargs = {'depends': ['socketmodule.h']}
            if MACOS:
                kwargs['extra_compile_args'] = ['-D__APPLE_USE_RFC_3542']
            Extension('_socket', ['socketmodule.c'], **kwargs)
            Extension('_x', ['x.c'], extra_compile_args=flags('X'))
            for path in self.inc_dirs:
                Extension('_y', ['y.c'])
                break
        ''') == [("_socket", ("socketmodule.c",), (), ()), ("_x", ("x.c",), ("X",), ()), ("_y", ("y.c",), (), ())]


def test_runaway_and_recursive_code_ends():
    assert extensions('''
        def forever(self):
            while True:
                pass
            Extension('after', ['after.c'])
        def recurse(n):
            return recurse(n + 1)
        recurse(0)
        ''') == [("after", ("after.c",), (), ())]


def test_values_that_would_grow_without_bound_become_unknown():
    assert extensions('''
        def grow(self):
            doubled, extended, text = ['a.c'], ['b.c'], 'x'
            for i in range(10000):
                doubled = doubled + doubled      # unknown past the limit
                extended.extend(extended)        # stops growing at the limit
                text = text * 2
                wide = '%999999999d' % 1
                text = text.replace('x', 'xxxxxxxxxx')
            Extension('_z', ['z.c'] + extended[:1])
        ''') == [("_z", ("z.c", "b.c"), (), ())]


def test_a_script_that_does_not_parse_has_no_extensions():
    assert read_extensions("def (:", "/src", lambda name: UNKNOWN) == ()
