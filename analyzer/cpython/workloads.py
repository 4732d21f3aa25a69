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
    "readline": "import readline\n"
                "readline.set_completer_delims(' \\t\\n')\n"
                "assert readline.get_completer_delims() == ' \\t\\n'\n",
}
"""Per module (import name), code that goes through the functions that use
what moved; a module without one is imported and its namespace listed."""


def module_workload(name: str) -> str:
    return MODULE_WORKLOADS.get(name, f"import {name}\nassert dir({name})\n")
