"""The gate job: a classified scan against baselines and inline suppressions
(check), with what it reads from the tree and from git at its edge (inputs)."""
