"""The `opencams admin ram` and `opencams admin sts` commands: RAM users, policies, roles, STS credentials."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from .cli_base import CliError, JsonOpt, run, show
from .iam.policy import PolicyError

if TYPE_CHECKING:
    from .db.ram import PrincipalType, RamStore

T = TypeVar("T")
ram_cmd = typer.Typer(no_args_is_help=True, help="RAM users, policies and roles.")
user_cmd = typer.Typer(no_args_is_help=True, help="RAM users (give them keys with `accesskey create --user`).")
policy_cmd = typer.Typer(no_args_is_help=True, help="Policies: System ones built in, Custom ones per account.")
role_cmd = typer.Typer(no_args_is_help=True, help="RAM roles that trusted users may assume.")
sts_cmd = typer.Typer(no_args_is_help=True, help="STS temporary credentials.")
ram_cmd.add_typer(user_cmd, name="user")
ram_cmd.add_typer(policy_cmd, name="policy")
ram_cmd.add_typer(role_cmd, name="role")

AccountOpt = Annotated[str, typer.Option(help="Account id.")]
UserOpt = Annotated[str | None, typer.Option("--user", help="RAM user name.")]
RoleOpt = Annotated[str | None, typer.Option("--role", help="RAM role name.")]


def _fail(message: str) -> NoReturn:
    # Quoted values are JSON-escaped already; this guards the one-line promise anyway.
    raise CliError(" ".join(message.splitlines()))


def _run(fn: Callable[[RamStore], Awaitable[T]]) -> T:
    """Run `fn` on the configured database; a RAM or policy fault becomes a one-line error."""
    from .db.ram import RamError, RamStore

    async def main(container: Any) -> T:
        return await fn(RamStore(container.engine, container.box))

    try:
        return run(main)
    except PolicyError as exc:
        _fail(f"invalid policy document: {exc}")
    except RamError as exc:
        _fail(str(exc))


def _show(rows: Sequence[dict[str, Any]], as_json: bool, *, key: str | None = None) -> None:
    show(rows, as_json, key=key)


def _date(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _read_document(option: str, source: str) -> str:
    """A document from a file, or from stdin for `-`."""
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"{option}: cannot read {source}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        _fail(f"{option}: {source} is not UTF-8 text")


def _principal(user: str | None, role: str | None) -> tuple[PrincipalType, str]:
    if user is not None and role is None:
        return "user", user
    if role is not None and user is None:
        return "role", role
    _fail("give exactly one of --user or --role")


def _principal_key(principal_type: PrincipalType) -> str:
    return "UserName" if principal_type == "user" else "RoleName"


# --- users -----------------------------------------------------------------------------------


@user_cmd.command("create")
def user_create(
    account: AccountOpt,
    name: Annotated[str, typer.Option(help="User name: 1 to 64 letters, digits, '.', '_' or '-'.")],
    as_json: JsonOpt = False,
) -> None:
    """Create a RAM user (it can do nothing until a policy is attached)."""
    user = _run(lambda ram: ram.create_user(account, name))
    _show([{"UserName": user.name, "AccountId": user.account_id, "CreateDate": _date(user.created_at)}], as_json)


@user_cmd.command("list")
def user_list(account: AccountOpt, as_json: JsonOpt = False) -> None:
    """List an account's RAM users."""
    users = _run(lambda ram: ram.list_users(account))
    rows = [{"UserName": u.name, "AccountId": u.account_id, "CreateDate": _date(u.created_at)} for u in users]
    _show(rows, as_json, key="Users")


# --- policies --------------------------------------------------------------------------------


@user_cmd.command("delete")
def user_delete(
    account: AccountOpt, name: Annotated[str, typer.Option("--name", help="User name.")], as_json: JsonOpt = False
) -> None:
    """Delete a RAM user; refused while it has AccessKeys or attached policies."""
    _run(lambda ram: ram.delete_user(account, name))
    _show([{"UserName": name, "Deleted": True}], as_json)


@policy_cmd.command("create")
def policy_create(
    account: AccountOpt,
    name: Annotated[str, typer.Option(help="Policy name: 1 to 128 letters, digits or '-'.")],
    document: Annotated[str, typer.Option(help="Policy document file, or - for stdin.")],
    as_json: JsonOpt = False,
) -> None:
    """Create a Custom policy; a document RAM would refuse is refused, naming the fault."""
    text = _read_document("--document", document)
    policy = _run(lambda ram: ram.create_policy(account, name, text))
    row = {"PolicyName": policy.name, "PolicyType": policy.policy_type, "AccountId": account}
    _show([{**row, "CreateDate": _date(policy.created_at)}], as_json)


@policy_cmd.command("get")
def policy_get(
    account: AccountOpt,
    name: Annotated[str, typer.Option(help="Policy name.")],
    as_json: JsonOpt = False,
) -> None:
    """Print a policy's document."""
    policy_type, text = _run(lambda ram: ram.get_policy_document(account, name))
    if as_json:
        _show([{"PolicyName": name, "PolicyType": policy_type, "PolicyDocument": text}], True)
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")


@policy_cmd.command("list")
def policy_list(account: AccountOpt, user: UserOpt = None, role: RoleOpt = None, as_json: JsonOpt = False) -> None:
    """List the policies of an account, or those attached to one user or role."""
    if user is None and role is None:
        policies = _run(lambda ram: ram.list_policies(account))
        rows = [
            {
                "PolicyName": p.name,
                "PolicyType": p.policy_type,
                "AttachmentCount": p.attachment_count,
                "CreateDate": _date(p.created_at),
            }
            for p in policies
        ]
    else:
        principal_type, principal_name = _principal(user, role)
        attachments = _run(lambda ram: ram.list_attachments(account, principal_type, principal_name))
        rows = [
            {
                "PolicyName": a.policy_name,
                "PolicyType": a.policy_type,
                _principal_key(principal_type): a.principal_name,
                "AttachDate": _date(a.attached_at),
            }
            for a in attachments
        ]
    _show(rows, as_json, key="Policies")


@policy_cmd.command("delete")
def policy_delete(
    account: AccountOpt, name: Annotated[str, typer.Option("--name", help="Policy name.")], as_json: JsonOpt = False
) -> None:
    """Delete a Custom policy; refused while attached, and for System policies."""
    _run(lambda ram: ram.delete_policy(account, name))
    _show([{"PolicyName": name, "Deleted": True}], as_json)


@policy_cmd.command("attach")
def policy_attach(
    account: AccountOpt,
    policy: Annotated[str, typer.Option("--policy", help="Policy name (System or Custom).")],
    user: UserOpt = None,
    role: RoleOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Attach a policy to a user or a role; it applies from the next call."""
    principal_type, principal_name = _principal(user, role)
    attached = _run(lambda ram: ram.attach_policy(account, principal_type, principal_name, policy))
    row = {"PolicyName": policy, "PolicyType": attached.policy_type, _principal_key(principal_type): principal_name}
    _show([row], as_json)


@policy_cmd.command("detach")
def policy_detach(
    account: AccountOpt,
    policy: Annotated[str, typer.Option("--policy", help="Policy name (System or Custom).")],
    user: UserOpt = None,
    role: RoleOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Detach a policy from a user or a role; it stops applying from the next call."""
    principal_type, principal_name = _principal(user, role)
    policy_type = _run(lambda ram: ram.detach_policy(account, principal_type, principal_name, policy))
    _show([{"PolicyName": policy, "PolicyType": policy_type, _principal_key(principal_type): principal_name}], as_json)


# --- roles and STS ---------------------------------------------------------------------------


@role_cmd.command("create")
def role_create(
    account: AccountOpt,
    name: Annotated[str, typer.Option(help="Role name: 1 to 64 letters, digits, '.' or '-'.")],
    trust_user: Annotated[
        list[str], typer.Option("--trust-user", help="A RAM user who may assume the role (repeatable).")
    ],
    max_session_duration: Annotated[int, typer.Option(help="Longest STS session in seconds (3600 to 43200).")] = 43200,
    as_json: JsonOpt = False,
) -> None:
    """Create a role whose trust policy lets the given RAM users assume it."""
    role = _run(lambda ram: ram.create_role(account, name, tuple(trust_user), max_session_duration))
    _show([_role_row(role, as_json)], as_json)


@role_cmd.command("list")
def role_list(account: AccountOpt, as_json: JsonOpt = False) -> None:
    """List an account's roles."""
    roles = _run(lambda ram: ram.list_roles(account))
    _show([_role_row(r, as_json) for r in roles], as_json, key="Roles")


def _role_row(role: Any, as_json: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "TrustUsers": list(role.trust_users) if as_json else ", ".join(role.trust_users),
        "MaxSessionDuration": role.max_session_duration,
        "CreateDate": _date(role.created_at),
    }
    if as_json:
        row["AssumeRolePolicyDocument"] = role.trust_policy
    return row


@role_cmd.command("delete")
def role_delete(
    account: AccountOpt, name: Annotated[str, typer.Option("--name", help="Role name.")], as_json: JsonOpt = False
) -> None:
    """Delete a role (its STS sessions end with it); refused while policies are attached."""
    _run(lambda ram: ram.delete_role(account, name))
    _show([{"RoleName": name, "Deleted": True}], as_json)


@sts_cmd.command("assume-role")
def sts_assume_role(
    account: AccountOpt,
    role: Annotated[str, typer.Option("--role", help="Role name.")],
    session: Annotated[str, typer.Option("--session", help="Session name: 2 to 64 letters, digits, '.@_-'.")],
    duration: Annotated[int, typer.Option(help="Seconds the credential lives (900 to 43200).")] = 3600,
    policy: Annotated[
        str | None, typer.Option("--policy", help="Session policy file (or - for stdin) narrowing the role.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Assume as this RAM user, which the role must trust.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue temporary credentials for a role, as Alibaba's AssumeRole returns them."""
    from .db.ram import MAX_SESSION_DURATION, MIN_SESSION_DURATION
    from .rpc.envelope import new_request_id

    if not MIN_SESSION_DURATION <= duration <= MAX_SESSION_DURATION:
        _fail(f"--duration must be {MIN_SESSION_DURATION} to {MAX_SESSION_DURATION} seconds, got {duration}")
    session_policy = _read_document("--policy", policy) if policy is not None else None
    issued = _run(
        lambda ram: ram.assume_role(
            account, role, session, duration=duration, session_policy=session_policy, user_name=user
        )
    )
    assumed = {"Arn": issued.arn, "AssumedRoleId": issued.assumed_role_id}
    credentials = {
        "AccessKeyId": issued.access_key_id,
        "AccessKeySecret": issued.access_key_secret,
        "SecurityToken": issued.security_token,
        "Expiration": issued.expiration,
    }
    if as_json:
        payload = {"RequestId": new_request_id(), "AssumedRoleUser": assumed, "Credentials": credentials}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    # Plain lines rather than a table: a table would wrap the long token, which must stay copyable.
    for label, value in (*credentials.items(), *assumed.items()):
        sys.stdout.write(f"{label + ':':<18}{value}\n")


@ram_cmd.command("decode-diagnostic")
def decode_diagnostic(
    message: Annotated[str, typer.Argument(help="AccessDeniedDetail.EncodedDiagnosticMessage of a denial.")],
    as_json: JsonOpt = False,
) -> None:
    """Explain a Ram.PermissionDeny: who asked for what, and which policy statement decided."""
    from .iam.diagnostic import decode_diagnostic as decode

    try:
        payload = decode(message)
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        _show([payload], True)
    else:
        _show([{"Field": k, "Value": v} for k, v in payload.items()], False)
