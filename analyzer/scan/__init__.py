"""The scan job: a tree -> ScanResult.  Finds the units a default Linux build
compiles (discovery), runs the front end on each in a supervised process pool
(engine, pool), and keeps their results in a cache keyed on the content of
every file they read (cache, files, fingerprint)."""
