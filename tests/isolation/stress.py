"""Stress own-GIL subinterpreters: K of them, each in its own thread, released
together by a barrier, import and exercise the stdlib's built-in and shared
extension modules.  Run by the CPython under test (3.13+), e.g. a
ThreadSanitizer build:

    ./python tests/isolation/stress.py --interpreters 4 [--threads] [--rounds 2]

--threads runs the same workload in K threads of the main interpreter
instead (one GIL: the control).  Each worker creates its interpreter after
the barrier, runs the workload in it and destroys it, so creation, module
imports and finalization of the interpreters overlap.  Prints a summary and
every failure; exit status 1 when a worker failed."""
from __future__ import annotations

import argparse
import sys
import threading
import time

# Modules whose C code the workload reaches, each with a little work (a
# module missing from a build is reported and skipped).  readline, _curses,
# _tkinter, _tracemalloc and faulthandler refuse own-GIL interpreters.
WORKLOAD = r'''
import importlib
EXERCISE = {
    "array": "m.array('d', range(50)).tobytes()",
    "binascii": "m.crc32(b'x' * 100); m.hexlify(b'abc')",
    "bisect": "m.insort([1, 3], 2)",
    "bz2": "m.decompress(m.compress(b'x' * 1000))",
    "cmath": "m.sqrt(-1); m.exp(1j); m.log(-2)",
    "collections": "m.OrderedDict(a=1); m.deque(range(10)).rotate(3); m.Counter('abca')",
    "contextvars": "m.ContextVar('v').set(1)",
    "csv": "list(m.reader(['a,b', '1,2']))",
    "datetime": "m.datetime.now().isoformat(); m.timedelta(3) * 2; m.date.fromisoformat('2024-01-02')",
    "decimal": "m.Decimal(1) / m.Decimal(7); m.getcontext().prec",
    "fractions": "m.Fraction(3, 4) ** 2",
    "functools": "m.reduce(lambda a, b: a + b, range(10)); m.lru_cache()(abs)(-1)",
    "hashlib": "m.sha256(b'x').hexdigest(); m.md5(b'x').hexdigest(); m.blake2b(b'x').digest()",
    "heapq": "m.nsmallest(2, [3, 1, 2])",
    "itertools": "list(m.islice(m.count(), 5)); list(m.permutations('abc'))",
    "json": "m.loads(m.dumps({'a': [1, 2.5, None, 'x']}))",
    "lzma": "m.decompress(m.compress(b'x' * 1000))",
    "math": "m.factorial(30); m.gcd(12, 18); m.isqrt(10 ** 20)",
    "mmap": "m.mmap(-1, 4096).write(b'x')",
    "operator": "m.itemgetter(1)([1, 2])",
    "os": "m.stat('.'); m.getcwd(); m.uname(); m.times()",
    "pickle": "m.loads(m.dumps([1, 'a', (2, 3), {4: 5}]))",
    "pyexpat": "p = m.ParserCreate(); p.Parse(b'<a><b/></a>', True)",
    "queue": "q = m.SimpleQueue(); q.put(1); q.get()",
    "random": "m.Random(1).random(); m.randrange(10)",
    "re": "m.sub(r'(a+)', r'<\\1>', 'baaad'); m.compile(r'\\w+').findall('a b c')",
    "select": "m.select([], [], [], 0)",
    "socket": "m.getaddrinfo('127.0.0.1', 80); m.inet_aton('1.2.3.4')",
    "sqlite3": "c = m.connect(':memory:'); c.execute('select 1').fetchall(); c.close()",
    "statistics": "m.mean([1, 2, 3]); m.median([3, 1, 2])",
    "string": "m.Template('$a').substitute(a=1)",
    "struct": "m.unpack('<iQd', m.pack('<iQd', 1, 2, 3.0))",
    "time": "m.time(); m.strftime('%Y'); m.localtime()",
    "unicodedata": "m.normalize('NFKD', 'éx'); m.name('a')",
    "uuid": "m.uuid4().hex",
    "xml.etree.ElementTree": "m.tostring(m.fromstring('<a><b>t</b></a>'))",
    "zlib": "m.decompress(m.compress(b'x' * 1000)); m.crc32(b'x')",
    "zoneinfo": "m.available_timezones()",
    "_asyncio": "",
    "_codecs_jp": "'テスト'.encode('shift_jis').decode('shift_jis')",
    "_lsprof": "m.Profiler()",
    "_multibytecodec": "",
    "_posixsubprocess": "",
    "_sha3": "m.sha3_256(b'x').digest()",
    "_statistics": "",
    "_uuid": "",
    "_zoneinfo": "",
    "_struct": "",
    "_opcode": "",
    "_random": "",
    "_bisect": "",
    "_heapq": "",
    "_json": "",
    "_pickle": "",
    "_datetime": "",
    "_decimal": "",
    "_elementtree": "",
    "_socket": "",
    "_ssl": "",
    "_ctypes": "",
    "fcntl": "",
    "grp": "m.getgrall()",
    "pwd": "m.getpwall()",
    "resource": "m.getrusage(m.RUSAGE_SELF)",
    "termios": "",
    "syslog": "",
}
missing = []
for round_ in range(ROUNDS):
    for name, work in EXERCISE.items():
        try:
            m = importlib.import_module(name)
        except ImportError as exc:
            missing.append(name)
            continue
        if work:
            exec(work, {"m": m})
if missing:
    print("stress: not importable here:", ", ".join(sorted(set(missing))))
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interpreters", type=int, default=4, metavar="K")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", action="store_true", help="K threads of the main interpreter instead")
    args = parser.parse_args(argv)
    code = f"ROUNDS = {args.rounds}\n" + WORKLOAD
    # Upstream bug (python/cpython#136421): _datetime's static types are freed
    # by the first interpreter to finalize unless the main interpreter has it.
    import _datetime  # noqa: F401
    barrier = threading.Barrier(args.interpreters)
    errors: list[str] = []
    if args.threads:
        def work(index: int) -> None:
            barrier.wait()
            try:
                exec(code, {})
            except Exception as exc:       # reported, the others go on
                errors.append(f"thread {index}: {exc!r}")
        workers = [threading.Thread(target=work, args=(i,)) for i in range(args.interpreters)]
    else:
        import _interpreters

        def work(index: int) -> None:
            barrier.wait()
            try:
                interp = _interpreters.create(_interpreters.new_config("isolated"))
                failure = _interpreters.exec(interp, code)
                _interpreters.destroy(interp)
            except Exception as exc:
                errors.append(f"worker {index}: {exc!r}")
                return
            if failure is not None:
                errors.append(f"interpreter {interp}: {failure.type.__name__}: {failure.msg}")
        workers = [threading.Thread(target=work, args=(i,)) for i in range(args.interpreters)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    mode = "threads" if args.threads else "own-GIL interpreters"
    print(f"stress: {args.interpreters} {mode}, {args.rounds} rounds, {time.perf_counter() - start:.1f} s, "
          f"{len(errors)} failed")
    for error in errors:
        print(f"stress: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
