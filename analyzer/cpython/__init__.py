"""What cglobals knows about CPython, in one place: pure tables and
predicates, no I/O.  Porting the analyzer to another release, or to another
embedder, means reading this package.

- `api`: calls and fields of the C API the analysis reacts to
- `lifecycle`: the entry points of the runtime's and interpreters' lifecycle
- `families`: what kind of data a declared type name holds
- `build`: how a default Linux build compiles a tree (Makefile, Setup files, configure)
  (setup.py, which tests the build machine's files, is evaluated by the scan's reader)
- `layout`: where things live in a checkout (core directories, extension and test code)
- `state`: the files, structs and anchors a patch series edits to hang state off
"""
