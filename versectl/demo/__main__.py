"""`python -m versectl.demo`: what `make demo` runs."""

from __future__ import annotations

from versectl.demo.story import main

if __name__ == "__main__":
    main()
