"""nginx configuration analysis: load (load.py), model (select, effective, targets), rules,
and `run_check` (check.py). The stable API is described in API.md."""
