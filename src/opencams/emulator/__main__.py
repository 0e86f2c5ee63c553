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
    parser.add_argument("--seed", type=int, default=None, help="seed for faults, codes, trace ids and upload ids")
    parser.add_argument(
        "--webhook-url",
        default=None,
        help="callback URL of the first app: it receives the lifecycle webhooks of every WABA",
    )
    parser.add_argument("--app-secret", default=None, help="secret of the first app (signs webhooks)")
    parser.add_argument("--verify-token", default=None, help="verify token stored with --webhook-url")
    args = parser.parse_args(argv)
    serve(
        args.host,
        args.port,
        args.fixture,
        args.seed,
        webhook_url=args.webhook_url,
        app_secret=args.app_secret,
        verify_token=args.verify_token,
    )


if __name__ == "__main__":
    main()
