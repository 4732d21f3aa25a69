"""Python code that uses an extension module's state, for the regression
test of a module whose globals moved into its module state: run in several
subinterpreters at once, then in the main interpreter."""
from __future__ import annotations

MODULE_WORKLOADS = {
    "array": "import array, pickle\n"
             "for code in 'bBhHiIlLqQfd':\n"
             "    a = array.array(code, range(10))\n"
             "    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):\n"
             "        assert pickle.loads(pickle.dumps(a, protocol)) == a\n"
             "# the reconstructor is this interpreter's: its module state's, not another's\n"
             "assert a.__reduce_ex__(3)[0] is array._array_reconstructor\n",
    "_collections": "import _collections, copy, pickle, weakref\n"
                    "d = _collections.deque(range(5), maxlen=8)\n"
                    "d.rotate(2)\n"
                    "assert list(d) == [3, 4, 0, 1, 2] and d == copy.copy(d) and d < _collections.deque([4])\n"
                    "assert list(reversed(d))[0] == 2 and list(iter(d))[0] == 3\n"
                    "assert pickle.loads(pickle.dumps(d)) == d\n"
                    "assert weakref.ref(d)() is d   # its weak reference offset is a spec member now\n"
                    "dd = _collections.defaultdict(list, a=[1])\n"
                    "dd['b'].append(2)\n"
                    "assert (dd | {'c': 3})['c'] == 3 and ({'c': 3} | dd)['a'] == [1]\n"
                    "assert pickle.loads(pickle.dumps(dd)) == dd and copy.copy(dd) == dd\n",
    "itertools": "import itertools\n"
                 "assert list(itertools.islice(itertools.chain('ab', 'cd'), 1, 3)) == ['b', 'c']\n"
                 "assert list(itertools.islice(itertools.count(3), 3)) == [3, 4, 5]\n"
                 "assert list(itertools.combinations('abc', 2))[0] == ('a', 'b')\n"
                 "assert list(itertools.combinations_with_replacement('ab', 2))[1] == ('a', 'b')\n"
                 "assert list(itertools.permutations(range(3)))[1] == (0, 2, 1)\n"
                 "assert list(itertools.product('ab', repeat=2))[-1] == ('b', 'b')\n"
                 "assert list(itertools.repeat(1, 3)) == [1, 1, 1]\n"
                 "assert list(itertools.accumulate([1, 2, 3])) == [1, 3, 6]\n"
                 "assert list(itertools.compress('abc', [1, 0, 1])) == ['a', 'c']\n"
                 "assert list(itertools.zip_longest('ab', 'c')) == [('a', 'c'), ('b', None)]\n"
                 "import gc\n"
                 "gc.disable()   # a cycle through a tee, left for the garbage collector\n"
                 "class Holder:\n"
                 "    pass\n"
                 "holder = Holder()\n"
                 "first, second = itertools.tee([holder])\n"
                 "next(first)\n"
                 "holder.ref = second\n"
                 "del first, second, holder\n"
                 "if not globals().get('KEEP_FOR_EXIT'):   # else the interpreter's finalization collects it\n"
                 "    gc.enable()\n",
    "xxsubtype": "import gc, xxsubtype\n"
                 "items = xxsubtype.spamlist([1, 2])\n"
                 "items.setstate(5)\n"
                 "assert items.getstate() == 5 and items == [1, 2]\n"
                 "items.append(items)   # a cycle through an instance, which owns its type\n"
                 "mapping = xxsubtype.spamdict(a=1)\n"
                 "mapping.setstate(3)\n"
                 "assert mapping.getstate() == 3 and mapping['a'] == 1\n"
                 "class Sub(xxsubtype.spamlist):\n"
                 "    pass\n"
                 "assert Sub([1]).getstate() == 0\n"
                 "del items\n"
                 "gc.collect()\n",
    "readline": "import readline\n"
                "readline.set_completer_delims(' \\t\\n')\n"
                "assert readline.get_completer_delims() == ' \\t\\n'\n",
}
"""Per module (import name), code that goes through the functions that use
what moved; a module without one is imported and its namespace listed."""


HEAPTYPE_FLAG = 1 << 9
IMMUTABLETYPE_FLAG = 1 << 8
"""Py_TPFLAGS_HEAPTYPE and Py_TPFLAGS_IMMUTABLETYPE (3.10+), as __flags__ shows them."""


def module_workload(name: str) -> str:
    return MODULE_WORKLOADS.get(name, f"import {name}\nassert dir({name})\n")


def heap_type_check(module: str, tp_names: tuple[str, ...]) -> str:
    """Each type that became a heap type (by its tp_name, "itertools.count")
    is one, has the __module__ its tp_name says, and is as immutable as the
    static type was."""
    if not tp_names:
        return ""
    return (f"import {module}\n"
            f"for qualified in {tuple(sorted(tp_names))!r}:\n"
            f"    where, _, name = qualified.rpartition('.')\n"
            f"    t = getattr({module}, name, None)   # a type the module does not expose is skipped\n"
            f"    if t is not None:\n"
            f"        assert t.__flags__ & {HEAPTYPE_FLAG}, f'{{name}} is not a heap type'\n"
            f"        assert t.__flags__ & {IMMUTABLETYPE_FLAG}, f'{{name}} is mutable'\n"
            f"        assert t.__module__ == where, t.__module__\n")
