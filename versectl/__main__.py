"""`python -m versectl` runs the CLI."""

from __future__ import annotations

from versectl.cli import main

if __name__ == "__main__":
    main()
