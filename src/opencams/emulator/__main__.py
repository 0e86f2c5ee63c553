"""`python -m opencams.emulator`: run the Graph emulator without the opencams CLI."""

from __future__ import annotations

import argparse
from pathlib import Path

from .server import serve


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m opencams.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument(
        "--fixture",
        type=Path,
        default=None,
        help="state JSON file (default: demo data set)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for probabilistic faults")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.fixture, args.seed)


if __name__ == "__main__":
    main()
