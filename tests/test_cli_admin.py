"""`opencams admin` listing and deleting: what is shown, and what is refused while still in use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

OPENCAMS = str(Path(sys.executable).parent / "opencams")


class Cli:
    def __init__(self, data: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCAMS_")}
        self.env.update(OPENCAMS_DATA_DIR=str(data), COLUMNS="40")

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OPENCAMS, *args], env=self.env, capture_output=True, text=True, timeout=60)

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def refused(self, *args: str) -> str:
        done = self(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        return done.stderr.strip().removeprefix("opencams: error: ")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data")


def test_keys_are_listed_with_status_and_deleted_only_when_disabled(cli: Cli) -> None:
    account = cli.json("admin", "account", "create", "--name", "isv")["AccountId"]
    key = cli.json("admin", "accesskey", "create", "--account", account)["AccessKeyId"]
    listed = cli.json("admin", "accesskey", "list", "--account", account)["AccessKeys"]
    assert [(k["AccessKeyId"], k["Status"], k["LastUsedDate"]) for k in listed] == [(key, "Active", None)]
    assert "AccessKeySecret" not in listed[0]
    assert "is active: disable it first" in cli.refused("admin", "accesskey", "delete", "--id", key)
    cli.json("admin", "accesskey", "disable", "--id", key)
    assert cli.json("admin", "accesskey", "delete", "--id", key) == {"AccessKeyId": key, "Deleted": True}
    assert cli.json("admin", "accesskey", "list", "--account", account)["AccessKeys"] == []
    assert "does not exist" in cli.refused("admin", "accesskey", "delete", "--id", key)


def test_ram_objects_in_use_are_refused(cli: Cli, tmp_path: Path) -> None:
    account = cli.json("admin", "account", "create", "--name", "isv")["AccountId"]
    cli.json("admin", "ram", "user", "create", "--account", account, "--name", "ops")
    key = cli.json("admin", "accesskey", "create", "--account", account, "--user", "ops")["AccessKeyId"]
    document = tmp_path / "p.json"
    document.write_text(
        json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cams:Get*", "Resource": "*"}]})
    )
    cli.json("admin", "ram", "policy", "create", "--account", account, "--name", "gets", "--document", str(document))
    cli.json("admin", "ram", "policy", "attach", "--account", account, "--user", "ops", "--policy", "gets")
    assert "still has 1 AccessKey(s) and 1 attached policy(ies)" in cli.refused(
        "admin", "ram", "user", "delete", "--account", account, "--name", "ops"
    )
    assert "still attached to user ops" in cli.refused(
        "admin", "ram", "policy", "delete", "--account", account, "--name", "gets"
    )
    assert "System policy" in cli.refused(
        "admin", "ram", "policy", "delete", "--account", account, "--name", "AliyunCAMSReadOnlyAccess"
    )
    cli.json("admin", "ram", "policy", "detach", "--account", account, "--user", "ops", "--policy", "gets")
    cli.json("admin", "ram", "policy", "delete", "--account", account, "--name", "gets")
    cli.json("admin", "accesskey", "disable", "--id", key)
    cli.json("admin", "accesskey", "delete", "--id", key)
    cli.json("admin", "ram", "user", "delete", "--account", account, "--name", "ops")
    assert cli.json("admin", "ram", "user", "list", "--account", account)["Users"] == []
    cli.json("admin", "ram", "user", "create", "--account", account, "--name", "ops")
    cli.json("admin", "ram", "role", "create", "--account", account, "--name", "syncer", "--trust-user", "ops")
    cli.json(
        "admin", "ram", "policy", "attach", "--account", account, "--role", "syncer", "--policy", "AliyunCAMSFullAccess"
    )
    assert "detach them first" in cli.refused(
        "admin", "ram", "role", "delete", "--account", account, "--name", "syncer"
    )
    cli.json(
        "admin", "ram", "policy", "detach", "--account", account, "--role", "syncer", "--policy", "AliyunCAMSFullAccess"
    )
    assert cli.json("admin", "ram", "role", "delete", "--account", account, "--name", "syncer")["Deleted"] is True


def test_a_space_holding_numbers_needs_with_numbers(cli: Cli) -> None:
    account = cli.json("admin", "account", "create", "--name", "isv")["AccountId"]
    empty = cli.json("admin", "space", "create", "--account", account, "--waba-id", "100")["CustSpaceId"]
    assert cli.json("admin", "space", "delete", "--space-id", empty)["NumbersDropped"] == 0
    assert "does not exist" in cli.refused("admin", "space", "delete", "--space-id", empty)


def test_tables_never_cut_an_id_and_never_read_markup(cli: Cli) -> None:
    account = cli.json("admin", "account", "create", "--name", "acs:ram::1:role/x [bold]")["AccountId"]
    done = cli("admin", "account", "list")
    assert done.returncode == 0
    assert account in done.stdout  # whole, on one line, though COLUMNS is 40
    assert "acs:ram::1:role/x [bold]" in done.stdout
