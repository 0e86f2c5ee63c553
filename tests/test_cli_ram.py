"""The real `opencams admin ram|sts|accesskey` commands in a subprocess: outputs, JSON shapes, refusals."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from opencams.iam.diagnostic import encode_diagnostic
from opencams.iam.policy import Decision, RequestContext

OPENCAMS = str(Path(sys.executable).parent / "opencams")
ALLOW_QUERY = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cams:Query*", "Resource": "*"}]})


@dataclass
class Cli:
    env: dict[str, str]

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([OPENCAMS, *args], input=stdin, env=self.env, capture_output=True, text=True, timeout=120)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        done = self(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", stdin=stdin))

    def fails(self, *args: str, stdin: str | None = None) -> str:
        """Run a refused command: exit 2, nothing on stdout, one line on stderr; returns that line."""
        done = self(*args, stdin=stdin)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        lines = done.stderr.splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("opencams: error: "), lines[0]
        return lines[0].removeprefix("opencams: error: ")

    def parallel(self, calls: Sequence[tuple[Sequence[str], str | None]]) -> list[str]:
        """`fails` for many independent commands at once (each process takes a second or two to start)."""
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda call: self.fails(*call[0], stdin=call[1]), calls))


def _env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCAMS_")}
    env.update(OPENCAMS_DATA_DIR=str(data_dir), OPENCAMS_SECRET_KEY="x")
    if database_url is not None:
        env.update(OPENCAMS_DATABASE_URL=database_url, OPENCAMS_AUTO_MIGRATE="true")
    return env


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    """The command on each test database."""
    return Cli(_env(tmp_path / "data", database_url))


@pytest.fixture
def local_cli(tmp_path: Path) -> Cli:
    """The command on its default embedded database in a fresh data directory (refusals need no backend matrix)."""
    return Cli(_env(tmp_path / "data"))


def _account(cli: Cli) -> str:
    return str(cli.json("admin", "account", "create", "--name", "isv")["AccountId"])


@pytest.fixture
def account(cli: Cli) -> str:
    return _account(cli)


def test_users_policies_roles_and_sts(cli: Cli, account: str, tmp_path: Path) -> None:
    a = ("--account", account)
    created_user = cli.json("admin", "ram", "user", "create", *a, "--name", "alice")
    assert set(created_user) == {"UserName", "AccountId", "CreateDate"}
    assert (created_user["UserName"], created_user["AccountId"]) == ("alice", account)
    user = cli.json("admin", "ram", "user", "list", *a)["Users"]
    assert [u["UserName"] for u in user] == ["alice"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", user[0]["CreateDate"])

    key = cli.json("admin", "accesskey", "create", *a, "--user", "alice")
    assert key["UserName"] == "alice" and key["AccountId"] == account and key["AccessKeyId"].startswith("LTAI")
    assert "UserName" not in cli.json("admin", "accesskey", "create", *a)

    policy_file = tmp_path / "query.json"
    policy_file.write_text(ALLOW_QUERY)
    created = cli.json("admin", "ram", "policy", "create", *a, "--name", "query-only", "--document", str(policy_file))
    assert (created["PolicyName"], created["PolicyType"]) == ("query-only", "Custom")
    stdin = cli.json(
        "admin", "ram", "policy", "create", *a, "--name", "from-stdin", "--document", "-", stdin=ALLOW_QUERY
    )
    assert stdin["PolicyName"] == "from-stdin"
    got = cli.json("admin", "ram", "policy", "get", *a, "--name", "query-only")
    assert json.loads(got["PolicyDocument"]) == json.loads(ALLOW_QUERY)

    attached = cli.json(
        "admin", "ram", "policy", "attach", *a, "--user", "alice", "--policy", "AliyunCAMSReadOnlyAccess"
    )
    assert attached == {"PolicyName": "AliyunCAMSReadOnlyAccess", "PolicyType": "System", "UserName": "alice"}
    cli.ok("admin", "ram", "policy", "attach", *a, "--user", "alice", "--policy", "query-only")

    role = cli.json(
        "admin",
        "ram",
        "role",
        "create",
        *a,
        "--name",
        "ops",
        "--trust-user",
        "alice",
        "--trust-user",
        "alice",
    )
    assert role["RoleName"] == "ops" and role["TrustUsers"] == ["alice"]
    assert role["Arn"] == f"acs:ram::{account}:role/ops" and role["MaxSessionDuration"] == 43200
    trust = json.loads(role["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"]["RAM"] == [f"acs:ram::{account}:user/alice"]
    assert [r["RoleName"] for r in cli.json("admin", "ram", "role", "list", *a)["Roles"]] == ["ops"]
    on_role = cli.json("admin", "ram", "policy", "attach", *a, "--role", "ops", "--policy", "AliyunCAMSFullAccess")
    assert on_role == {"PolicyName": "AliyunCAMSFullAccess", "PolicyType": "System", "RoleName": "ops"}

    listed = {p["PolicyName"]: p for p in cli.json("admin", "ram", "policy", "list", *a)["Policies"]}
    assert set(listed) == {"AliyunCAMSFullAccess", "AliyunCAMSReadOnlyAccess", "query-only", "from-stdin"}
    assert listed["AliyunCAMSFullAccess"]["PolicyType"] == "System" and listed["query-only"]["PolicyType"] == "Custom"
    assert [
        listed[n]["AttachmentCount"] for n in ("AliyunCAMSFullAccess", "AliyunCAMSReadOnlyAccess", "from-stdin")
    ] == [1, 1, 0]
    for_alice = cli.json("admin", "ram", "policy", "list", *a, "--user", "alice")["Policies"]
    assert [(p["PolicyName"], p["PolicyType"], p["UserName"]) for p in for_alice] == [
        ("AliyunCAMSReadOnlyAccess", "System", "alice"),
        ("query-only", "Custom", "alice"),
    ]
    detached = cli.json("admin", "ram", "policy", "detach", *a, "--user", "alice", "--policy", "query-only")
    assert detached == {"PolicyName": "query-only", "PolicyType": "Custom", "UserName": "alice"}
    assert len(cli.json("admin", "ram", "policy", "list", *a, "--user", "alice")["Policies"]) == 1
    assert [p["RoleName"] for p in cli.json("admin", "ram", "policy", "list", *a, "--role", "ops")["Policies"]] == [
        "ops"
    ]

    before = time.time()
    issued = cli.json(
        "admin",
        "sts",
        "assume-role",
        *a,
        "--role",
        "ops",
        "--session",
        "batch-1",
        "--duration",
        "900",
        "--user",
        "alice",
        "--policy",
        "-",
        stdin=ALLOW_QUERY,
    )
    assert set(issued) == {"RequestId", "AssumedRoleUser", "Credentials"}
    assert re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}", issued["RequestId"])
    assumed, creds = issued["AssumedRoleUser"], issued["Credentials"]
    assert assumed["Arn"] == f"acs:ram::{account}:role/ops/batch-1"
    assert re.fullmatch(r"\d+:batch-1", assumed["AssumedRoleId"])
    assert assumed["AssumedRoleId"].split(":")[0] == role["RoleId"]
    assert set(creds) == {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}
    assert creds["AccessKeyId"].startswith("STS.") and creds["SecurityToken"].startswith("CAIS")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", creds["Expiration"])
    expires = datetime.strptime(creds["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    assert before + 900 - 2 <= expires <= time.time() + 900

    text = cli.ok("admin", "sts", "assume-role", *a, "--role", "ops", "--session", "s2")
    fields = dict(re.split(r":\s+", line, maxsplit=1) for line in text.splitlines())
    assert set(fields) == {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration", "Arn", "AssumedRoleId"}
    assert fields["AccessKeyId"].startswith("STS.") and fields["SecurityToken"].startswith("CAIS")
    default_expiry = datetime.strptime(fields["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    assert abs(default_expiry - (time.time() + 3600)) < 30


def test_decode_diagnostic(local_cli: Cli) -> None:
    cli = local_cli
    decision = Decision(False, "ExplicitDeny", "AccountLevelIdentityBasedPolicy", "no-sync", 1)
    ctx = RequestContext("cams:ChatappSyncPhoneNumber", "acs:cams:*:1234567890123456:*")
    message = encode_diagnostic(
        decision, ctx, principal="acs:ram::1234567890123456:user/bob", account_id="1234567890123456"
    )
    decoded = cli.json("admin", "ram", "decode-diagnostic", message)
    assert decoded["PolicyName"] == "no-sync" and decoded["StatementIndex"] == 1
    assert decoded["NoPermissionType"] == "ExplicitDeny" and decoded["AuthAction"] == "cams:ChatappSyncPhoneNumber"
    table = cli.ok("admin", "ram", "decode-diagnostic", message)
    assert "no-sync" in table and "ExplicitDeny" in table
    assert "not valid base64" in cli.fails("admin", "ram", "decode-diagnostic", "!!!")


def _policy(**statement: Any) -> str:
    return json.dumps(
        {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cams:*", "Resource": "*", **statement}]}
    )


INVALID_DOCUMENTS = [
    ("", "not valid JSON"),
    ("[]", "must be a JSON object, got array"),
    ('{"Statement": []}', 'missing required element "Version"'),
    ('{"Version": "2", "Statement": []}', 'Version must be "1"'),
    ('{"Version": "1", "Statement": {}}', "Statement must be a list"),
    (_policy(Effect="Alow"), 'Statement[0].Effect must be "Allow" or "Deny", got "Alow"'),
    (_policy(NotAction="cams:Query*"), 'exactly one of "Action" or "NotAction"'),
    ('{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cams:*"}]}', 'missing required element "Resource"'),
    (_policy(Action="ChatappSyncPhoneNumber"), '"ChatappSyncPhoneNumber" is not a valid action'),
    (_policy(Principal={"RAM": "*"}), "Principal is not allowed"),
    (_policy(Condition={"StringEqual": {"acs:SourceIp": "1.2.3.4"}}), 'unknown operator "StringEqual"'),
    (_policy(Condition={"ipaddress": {"acs:SourceIp": "1.2.3.4"}}), 'did you mean "IpAddress"'),
    (
        _policy(Condition={"IpAddress": {"acs:SourceIp": "10.0.0.300"}}),
        'value "10.0.0.300" is not an IPv4/IPv6 address',
    ),
    (_policy(Condition={"DateLessThan": {"acs:CurrentTime": "tomorrow"}}), "is not an ISO 8601 date-time"),
    (_policy(Condition={"IpAddress": {"SourceIp": "1.2.3.4"}}), 'invalid condition key "SourceIp"'),
    ('{"Version": "1", "Version": "1", "Statement": []}', 'repeats the key "Version"'),
    (_policy(Action=[f"cams:Action{i}" for i in range(600)]), "RAM allows at most 6144"),
]


def test_invalid_policy_documents_are_refused(local_cli: Cli) -> None:
    cli, account = local_cli, _account(local_cli)
    calls = [
        (("admin", "ram", "policy", "create", "--account", account, "--name", f"bad-{i}", "--document", "-"), document)
        for i, (document, _) in enumerate(INVALID_DOCUMENTS)
    ]
    for line, (_, fault) in zip(cli.parallel(calls), INVALID_DOCUMENTS, strict=True):
        assert line.startswith("invalid policy document: "), line
        assert fault in line, (fault, line)
    listed = cli.json("admin", "ram", "policy", "list", "--account", account)["Policies"]
    assert [p["PolicyType"] for p in listed] == ["System", "System"]
    # The same refusal for a session policy, and nothing issued.
    cli.ok("admin", "ram", "user", "create", "--account", account, "--name", "u")
    cli.ok("admin", "ram", "role", "create", "--account", account, "--name", "r", "--trust-user", "u")
    line = cli.fails(
        "admin",
        "sts",
        "assume-role",
        "--account",
        account,
        "--role",
        "r",
        "--session",
        "s1",
        "--policy",
        "-",
        stdin=_policy(Effect="Alow"),
    )
    assert line.startswith("invalid policy document: ") and '"Alow"' in line


def test_bad_arguments(local_cli: Cli, tmp_path: Path) -> None:
    cli, account = local_cli, _account(local_cli)
    a = ("--account", account)
    cli.ok("admin", "ram", "user", "create", *a, "--name", "alice")
    cli.ok("admin", "ram", "role", "create", *a, "--name", "ops", "--trust-user", "alice")
    cli.ok("admin", "ram", "policy", "create", *a, "--name", "mine", "--document", "-", stdin=ALLOW_QUERY)
    assume = ("admin", "sts", "assume-role", *a, "--role", "ops", "--session", "s1")
    cases: list[tuple[tuple[str, ...], str | None, str]] = [
        (("admin", "ram", "user", "create", *a, "--name", "alice"), None, "user alice already exists"),
        (("admin", "ram", "user", "create", "--account", "999", "--name", "x"), None, "account 999 does not exist"),
        (("admin", "ram", "user", "create", *a, "--name", "no spaces"), None, "user name 'no spaces' is not valid"),
        (("admin", "accesskey", "create", *a, "--user", "bob"), None, "RAM user bob does not exist"),
        (
            ("admin", "ram", "policy", "create", *a, "--name", "mine", "--document", "-"),
            ALLOW_QUERY,
            "policy mine already exists",
        ),
        (
            ("admin", "ram", "policy", "create", *a, "--name", "AliyunCAMSFullAccess", "--document", "-"),
            ALLOW_QUERY,
            "taken by a System policy",
        ),
        (
            ("admin", "ram", "policy", "create", *a, "--name", "x", "--document", str(tmp_path / "missing.json")),
            None,
            "--document: cannot read",
        ),
        (
            ("admin", "ram", "policy", "attach", *a, "--user", "alice", "--policy", "nope"),
            None,
            "policy nope does not exist",
        ),
        (
            ("admin", "ram", "policy", "attach", *a, "--user", "bob", "--policy", "mine"),
            None,
            "RAM user bob does not exist",
        ),
        (("admin", "ram", "policy", "attach", *a, "--policy", "mine"), None, "exactly one of --user or --role"),
        (("admin", "ram", "policy", "detach", *a, "--user", "alice", "--policy", "mine"), None, "is not attached"),
        (("admin", "ram", "role", "create", *a, "--name", "r2"), None, "--trust-user"),
        (
            ("admin", "ram", "role", "create", *a, "--name", "r2", "--trust-user", "bob"),
            None,
            "RAM user bob does not exist",
        ),
        (
            (
                "admin",
                "ram",
                "role",
                "create",
                *a,
                "--name",
                "r3",
                "--trust-user",
                "alice",
                "--max-session-duration",
                "60",
            ),
            None,
            "MaxSessionDuration must be 3600 to 43200",
        ),
        ((*assume, "--duration", "899"), None, "--duration must be 900 to 43200 seconds, got 899"),
        ((*assume, "--duration", "43201"), None, "--duration must be 900 to 43200 seconds, got 43201"),
        ((*assume, "--duration", "soon"), None, "Invalid value for '--duration'"),
        (("admin", "sts", "assume-role", *a, "--role", "ops", "--session", "x"), None, "session name 'x' is not valid"),
        ((*assume, "--user", "mallory"), None, "user mallory is not trusted by role ops"),
        (("admin", "ram", "decode-diagnostic", "e30="), None, "unsupported Version"),
    ]
    for line, (_, _, expected) in zip(cli.parallel([(args, stdin) for args, stdin, _ in cases]), cases, strict=True):
        assert expected in line, (expected, line)
    # Nothing half-made by the refusals.
    assert [u["UserName"] for u in cli.json("admin", "ram", "user", "list", *a)["Users"]] == ["alice"]
    assert [r["RoleName"] for r in cli.json("admin", "ram", "role", "list", *a)["Roles"]] == ["ops"]
