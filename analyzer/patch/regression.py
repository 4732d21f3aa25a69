"""The series' regression test, added to CPython's own subinterpreter tests
with libcst: a workload that goes through the object protocols (copying,
pickling, attribute lookup, formatting), int parsing in other bases and
imports, run in several subinterpreters at once, then their destruction:
code paths that read and write state a series moves."""
from __future__ import annotations

import libcst as cst

from ..cpython.workloads import heap_type_check, module_workload

CLASS_NAME = "CGlobalsIsolationTests"

_TEST_CLASS = '''
class CGlobalsIsolationTests(TestBase):
    """State moved from C globals into the interpreter (cglobals), used by
    several interpreters at once and torn down with each of them."""

    WORKLOAD = dedent("""
        import copy, importlib, pickle, sys
        class Point:
            def __init__(self, x):
                self.x = x
        for i in range(300):
            copy.copy(Point(i))
            copy.deepcopy([Point(i), {i: str(i)}])
            pickle.loads(pickle.dumps([i, str(i), 1e300 * 10, (i, None)], 2))
            format(i, "x"), repr(1e300 * 10)
            assert int(format(i, "o") * 3, 8) == int(oct(i)[2:] * 3, 8)
            assert int("z" * (i % 40 + 1), 36) > 0
        for name in ("json", "csv", "shlex", "string", "textwrap"):
            sys.modules.pop(name, None)
            importlib.import_module(name)
        """)

    def run_in_interpreters(self, code):
        """Run code in four interpreters at once (threads), destroy them,
        then run it in the main interpreter; an error in any one fails."""
        errors = []

        def run(interp):
            try:
                interpreters.run_string(interp, code)
            except Exception as exc:
                errors.append(exc)

        ids = [interpreters.create() for _ in range(4)]
        threads = [threading.Thread(target=run, args=(interp,)) for interp in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for interp in ids:
            interpreters.destroy(interp)
        self.assertEqual(errors, [])
        exec(code, {})

    def test_workload_in_several_interpreters(self):
        self.run_in_interpreters(self.WORKLOAD)
'''


class _AddTestClass(cst.CSTTransformer):
    """Put the class before `if __name__ == '__main__':`, or at the end."""

    def __init__(self, statement: cst.SimpleStatementLine | cst.BaseCompoundStatement) -> None:
        super().__init__()
        self.statement = statement

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        body = list(updated.body)
        main = next((i for i, s in enumerate(body) if isinstance(s, cst.If)
                     and "__main__" in cst.Module(body=[s]).code), len(body))
        block = self.statement.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        body.insert(main, block)
        if main < len(body) - 1:
            body[main + 1] = body[main + 1].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        return updated.with_changes(body=body)


_MODULES_TEST = '''

    MODULES_WORKLOAD = dedent(r"""
{workload}        """)

    def test_converted_modules_in_several_interpreters(self):
        """Modules whose globals moved into their module state."""
        self.run_in_interpreters(self.MODULES_WORKLOAD)

    def test_converted_modules_torn_down_at_exit(self):
        """What the workload leaves (cycles through converted types among
        it) collected by the finalization of the main interpreter, when
        the module, its types and their instances go together."""
        from test.support.script_helper import assert_python_ok
        assert_python_ok("-c", "KEEP_FOR_EXIT = True\\n" + self.MODULES_WORKLOAD)
'''


def add_isolation_test(source: str, interpreters: str = "interpreters", modules: tuple[str, ...] = (),
                       heap_types: dict[str, tuple[str, ...]] | None = None) -> str:
    """The test module with the class added (unchanged when it has it);
    `interpreters`: the name the module gives the interpreters module;
    `modules`: the import names of the modules whose globals moved into
    their module state, for a second test that uses them; `heap_types`:
    per module, the names of its types that became heap types (checked
    to be heap types, immutable, in every interpreter)."""
    module = cst.parse_module(source)
    if any(isinstance(s, cst.ClassDef) and s.name.value == CLASS_NAME for s in module.body):
        return source
    text = _TEST_CLASS.strip()
    if modules:
        code = "".join(module_workload(name) + heap_type_check(name, (heap_types or {}).get(name, ()))
                       for name in modules)
        workload = "".join(f"        {line}\n" if line else "\n" for line in code.splitlines())
        text += _MODULES_TEST.format(workload=workload).rstrip()
    statement = cst.parse_statement(text.replace("interpreters.", f"{interpreters}.") + "\n")
    assert isinstance(statement, cst.ClassDef)
    return module.visit(_AddTestClass(statement)).code
