"""The `opencams` command: serve, graph-emulator, demo, and `admin` (cli_admin.py, cli_ram.py)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from typer.exceptions import TyperException

from .cli_admin import admin
from .cli_base import CliError, console, prepare, settings
from .cli_ram import ram_cmd, sts_cmd

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(admin, name="admin")
admin.add_typer(ram_cmd, name="ram")
admin.add_typer(sts_cmd, name="sts")


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"opencams {version('opencams')}\n")
        raise typer.Exit()


@app.callback()
def root(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """opencams: a self-hosted implementation of Alibaba Cloud CAMS's phone-number API."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes sharing the port.")] = 1,
) -> None:
    """Run the CAMS API server."""
    cfg = settings()
    _metrics_directory()
    from .httpserver import run_server

    # Once, in the parent, before any worker opens the database.
    prepare(cfg)
    run_server(cfg, host=host, port=port, workers=workers)


def _metrics_directory() -> None:
    """Give every worker one fresh directory for its metrics, before anything imports the client.

    An operator's own PROMETHEUS_MULTIPROC_DIR is kept (and must be emptied by them at start).
    """
    import atexit
    import os
    import shutil
    import tempfile

    # Named here, not imported from opencams.metrics: importing the client first would fix its
    # storage to this process's memory.
    variable = "PROMETHEUS_MULTIPROC_DIR"
    if os.environ.get(variable):
        return
    directory = tempfile.mkdtemp(prefix="opencams-metrics-")
    os.environ[variable] = directory
    atexit.register(shutil.rmtree, directory, ignore_errors=True)


@app.command("graph-emulator")
def graph_emulator(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 9000,
    fixture: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="State JSON to load.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for probabilistic faults.")] = None,
    webhook_url: Annotated[
        str | None, typer.Option(help="Send Meta's webhooks for every WABA to this URL (e.g. opencams').")
    ] = None,
    app_secret: Annotated[str | None, typer.Option(help="The app secret the webhooks are signed with.")] = None,
    verify_token: Annotated[str | None, typer.Option(help="The verify token of the webhook subscription.")] = None,
) -> None:
    """Run the built-in emulator of Meta's Graph API (numbers, WABAs, profiles, registration, webhooks)."""
    from .emulator.server import serve as serve_emulator
    from .emulator.state import StateError

    try:
        serve_emulator(
            host, port, fixture, seed, webhook_url=webhook_url, app_secret=app_secret, verify_token=verify_token
        )
    except StateError as exc:
        raise CliError(f"--fixture {fixture}: {exc}") from None
    except ValueError as exc:  # the file is not JSON at all
        raise CliError(f"--fixture {fixture}: not a JSON state document ({exc})") from None


@app.command()
def demo() -> None:
    """Start the emulator and the server, sync a space through the official SDK, print it, stop."""
    from .demo import run_demo

    run_demo(Console(width=max(console.width, 120)))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: every operator mistake is one line on stderr and exit code 2."""
    from .db.accounts import NotFound

    try:
        app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except typer.Abort:
        sys.exit(130)
    except TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            # Invoked with no subcommand: the message is the help text itself.
            sys.stderr.write(exc.format_message() + "\n")
        else:
            sys.stderr.write(f"opencams: error: {exc.format_message()}\n")
        sys.exit(exc.exit_code)
    except (CliError, NotFound) as exc:
        sys.stderr.write(f"opencams: error: {exc}\n")
        sys.exit(2)
