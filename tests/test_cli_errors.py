"""Operator mistakes: each is one line naming the setting or the step to take, and exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .conftest import POSTGRES_URL

OPENCAMS = str(Path(sys.executable).parent / "opencams")


def fails(env: dict[str, str], *args: str) -> str:
    """Run a command expected to refuse: exit 2, no traceback, exactly one line; returns it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPENCAMS_")}
    done = subprocess.run([OPENCAMS, *args], env={**base, **env}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("opencams: error: ")
    return lines[0].removeprefix("opencams: error: ")


@pytest.fixture
def data(tmp_path: Path) -> dict[str, str]:
    return {"OPENCAMS_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("needs OPENCAMS_TEST_POSTGRES_URL")
    admin = create_engine(
        make_url(POSTGRES_URL).set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT"
    )
    name = f"opencams_fresh_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_fresh_postgresql_without_upgrade(data: dict[str, str], fresh_postgres: str) -> None:
    line = fails({**data, "OPENCAMS_DATABASE_URL": fresh_postgres}, "serve", "--port", "0")
    assert "run `opencams admin db upgrade` first" in line and "OPENCAMS_AUTO_MIGRATE" in line


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"OPENCAMS_DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:1/x"},
            "cannot use the database at postgresql://u:***@127.0.0.1:1/x",
        ),
        ({"OPENCAMS_DATABASE_URL": "not a url"}, "OPENCAMS_DATABASE_URL: must be a URL"),
        ({"OPENCAMS_DATABASE_URL": "mysql://root@127.0.0.1/test"}, "OPENCAMS_DATABASE_URL: mysql is not supported"),
        ({"OPENCAMS_RATE_LIMITS": "ChatappSyncPhoneNumber=ten"}, "OPENCAMS_RATE_LIMITS: rate must look like 10/s"),
        ({"OPENCAMS_RATE_LIMITS": "=10/s"}, "OPENCAMS_RATE_LIMITS: entry '=10/s' must look like Action=10/s"),
        ({"OPENCAMS_LOG_LEVEL": "LOUD"}, "OPENCAMS_LOG_LEVEL: must be one of"),
        ({"OPENCAMS_LOG_FORMAT": "xml"}, "OPENCAMS_LOG_FORMAT"),
        ({"OPENCAMS_REDIS_URL": "http://cache:6379"}, "OPENCAMS_REDIS_URL: must be a URL like redis://"),
        (
            {"OPENCAMS_TRUSTED_PROXIES": "10.0.0.0/33"},
            "OPENCAMS_TRUSTED_PROXIES: '10.0.0.0/33' is not an address or CIDR",
        ),
        ({"OPENCAMS_DATA_DIR": "/proc/opencams"}, "OPENCAMS_DATA_DIR /proc/opencams cannot be used"),
    ],
)
def test_bad_settings(data: dict[str, str], env: dict[str, str], expected: str) -> None:
    line = fails({**data, **env}, "admin", "account", "list")
    assert expected in line
    assert "hunter2" not in line


def test_a_data_directory_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    line = fails({"OPENCAMS_DATA_DIR": str(tmp_path / "file" / "data")}, "admin", "account", "list")
    assert "cannot be used: Not a directory" in line


def test_an_unknown_revision(data: dict[str, str]) -> None:
    assert "--revision nope: Can't locate revision identified by 'nope'" in fails(
        data, "admin", "db", "upgrade", "--revision", "nope"
    )


def test_a_bad_emulator_fixture(data: dict[str, str], tmp_path: Path) -> None:
    shape = tmp_path / "shape.json"
    shape.write_text('{"wabas": 5}')
    assert "$.wabas: expected a JSON object" in fails(data, "graph-emulator", "--fixture", str(shape), "--port", "0")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("nope")
    assert "is not valid JSON" in fails(data, "graph-emulator", "--fixture", str(garbage), "--port", "0")


def test_version_and_short_help(data: dict[str, str]) -> None:
    done = subprocess.run([OPENCAMS, "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.startswith("opencams ")
    short = subprocess.run([OPENCAMS, "admin", "-h"], capture_output=True, text=True, timeout=60, check=True)
    assert "Usage: opencams admin" in short.stdout
    completion = subprocess.run([OPENCAMS, "--help"], capture_output=True, text=True, timeout=60, check=True)
    assert "--install-completion" in completion.stdout
