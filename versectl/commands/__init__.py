"""One module per CLI command: parse options, call the domain, render, map to an exit code."""
