"""`versectl` (the console script) and `python -m versectl`: the CLI, with the cyclic garbage
collector off for the whole short-lived process."""

from __future__ import annotations

import gc


def main() -> None:
    """Run the CLI (versectl.cli.main, its one error boundary) with the collector off.

    Starting allocates ~33,000 tracked objects (typer, click, the command's modules) and leaves
    ~500 in cycles: the collector's ~50 passes over them were ~4 % of a `check nginx` (~19 M
    instructions, bench/check_nginx.py). What runs long already turns it off: loading a config,
    the check and its report (versectl.nginx.load.cyclic_gc_paused), a probe (probe/runner.py).
    """
    gc.disable()
    from versectl.cli import main as cli_main  # here: typer's import runs with the collector off

    cli_main()


if __name__ == "__main__":
    main()
