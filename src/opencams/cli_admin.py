"""`opencams admin`: accounts, AccessKeys, customer spaces, Meta's WABA blocks, the database schema."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .cli_base import CliError, JsonOpt, console, database_revision, migrate, run, settings, show
from .config import Settings

admin = typer.Typer(no_args_is_help=True, help="Manage accounts, AccessKeys, spaces and the database.")
account_cmd = typer.Typer(no_args_is_help=True, help="Accounts.")
accesskey_cmd = typer.Typer(no_args_is_help=True, help="AccessKeys.")
space_cmd = typer.Typer(no_args_is_help=True, help="Customer spaces.")
db_cmd = typer.Typer(no_args_is_help=True, help="Database schema.")
waba_cmd = typer.Typer(no_args_is_help=True, help="Meta's blocks on WABAs.")
admin.add_typer(account_cmd, name="account")
admin.add_typer(accesskey_cmd, name="accesskey")
admin.add_typer(space_cmd, name="space")
admin.add_typer(db_cmd, name="db")
admin.add_typer(waba_cmd, name="waba")


def _account_row(a: Any) -> dict[str, Any]:
    return {
        "AccountId": a.id,
        "Name": a.name,
        "CamsEnabled": a.cams_enabled,
        "QueueDelivery": a.queue_delivery,
    }


@account_cmd.command("create")
def account_create(
    name: Annotated[str, typer.Option(help="Display name of the account.")],
    no_cams: Annotated[bool, typer.Option("--no-cams", help="Create it without the cams product.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create an account (subscribed to cams unless --no-cams)."""
    if not name.strip() or len(name) > 128:
        raise CliError("--name must be 1 to 128 characters")
    account = run(lambda c: c.accounts.create_account(name, cams_enabled=not no_cams))
    show([_account_row(account)], as_json)


def _set_account(account: str, as_json: bool, **values: bool) -> None:
    result = run(lambda c: c.accounts.update_account(account, **values))
    show([_account_row(result)], as_json)


@account_cmd.command("subscribe")
def account_subscribe(account: Annotated[str, typer.Option(help="Account id.")], as_json: JsonOpt = False) -> None:
    """Enable the cams product for an account."""
    _set_account(account, as_json, cams_enabled=True)


@account_cmd.command("unsubscribe")
def account_unsubscribe(account: Annotated[str, typer.Option(help="Account id.")], as_json: JsonOpt = False) -> None:
    """Disable the cams product (calls then get Product.Unsubscript)."""
    _set_account(account, as_json, cams_enabled=False)


@account_cmd.command("queues")
def account_queues(
    account: Annotated[str, typer.Option(help="Account id.")],
    enable: Annotated[bool, typer.Option("--enable/--disable", help="Queue delivery on or off.")],
    as_json: JsonOpt = False,
) -> None:
    """Turn queue delivery on or off (StatusQueue/UpQueue appear on its numbers)."""
    _set_account(account, as_json, queue_delivery=enable)


@account_cmd.command("set-limit")
def account_set_limit(
    account: Annotated[str, typer.Option(help="Account id.")],
    action: Annotated[str, typer.Option(help="Action name, e.g. ChatappSyncPhoneNumber.")],
    rate: Annotated[str | None, typer.Option(help="Calls per period, e.g. 20/s; omit with --clear.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Go back to the action's default rate.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Set an account's own rate for an action (all its RAM users and STS sessions share it)."""
    from .ratelimit import Rate

    if (rate is None) == (not clear):
        raise CliError("give exactly one of --rate or --clear")
    try:
        parsed = Rate.parse(rate) if rate is not None else None
    except ValueError as exc:
        raise CliError(f"--rate: {exc}") from None

    async def set_limit(c: Any) -> None:
        await c.accounts.get_account(account)
        if c.registry.get(action) is None:
            raise CliError(f"unknown action {action!r}; known: {', '.join(sorted(c.registry.actions))}")
        from .db.limits import AccountRateStore

        await AccountRateStore(c.engine).set_rate(account, action, parsed)

    run(set_limit)
    show([{"AccountId": account, "Action": action, "Rate": str(parsed) if parsed else "default"}], as_json)


@account_cmd.command("list")
def account_list(as_json: JsonOpt = False) -> None:
    """List accounts."""
    accounts = run(lambda c: c.accounts.list_accounts())
    show([_account_row(a) for a in accounts], as_json, key="Accounts")


@accesskey_cmd.command("create")
def accesskey_create(
    account: Annotated[str, typer.Option(help="Account id.")],
    user: Annotated[
        str | None, typer.Option("--user", help="RAM user the key belongs to (default: the account).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an AccessKey; its secret is shown only now."""
    key = run(lambda c: c.accounts.create_access_key(account, user))
    row = {"AccessKeyId": key.id, "AccessKeySecret": key.secret, "AccountId": key.account_id}
    show([{**row, "UserName": key.user_name} if key.user_name else row], as_json)


def _set_key(access_key_id: str, active: bool, as_json: bool) -> None:
    run(lambda c: c.accounts.set_access_key_active(access_key_id, active))
    show([{"AccessKeyId": access_key_id, "Status": "Active" if active else "Inactive"}], as_json)


@accesskey_cmd.command("disable")
def accesskey_disable(
    access_key_id: Annotated[str, typer.Option("--id", help="AccessKeyId.")], as_json: JsonOpt = False
) -> None:
    """Disable an AccessKey (calls then get InvalidAccessKeyId.Inactive)."""
    _set_key(access_key_id, False, as_json)


@accesskey_cmd.command("enable")
def accesskey_enable(
    access_key_id: Annotated[str, typer.Option("--id", help="AccessKeyId.")], as_json: JsonOpt = False
) -> None:
    """Enable an AccessKey again."""
    _set_key(access_key_id, True, as_json)


@accesskey_cmd.command("list")
def accesskey_list(
    account: Annotated[str, typer.Option(help="Account id.")],
    user: Annotated[str | None, typer.Option("--user", help="Only this RAM user's keys.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List an account's AccessKeys with their status and last use (never a secret)."""
    keys = run(lambda c: c.accounts.list_access_keys(account, user))
    rows = [
        {
            "AccessKeyId": k.id,
            "UserName": k.user_name,
            "Status": "Active" if k.active else "Inactive",
            "CreateDate": _iso(k.created_at),
            "LastUsedDate": _iso(k.last_used_at),
        }
        for k in keys
    ]
    show(rows, as_json, key="AccessKeys")


@accesskey_cmd.command("delete")
def accesskey_delete(
    access_key_id: Annotated[str, typer.Option("--id", help="AccessKeyId (disable it first).")],
    as_json: JsonOpt = False,
) -> None:
    """Delete a disabled AccessKey; an active one is refused (disable it first)."""
    from .db.accounts import KeyInUse

    try:
        run(lambda c: c.accounts.delete_access_key(access_key_id))
    except KeyInUse as exc:
        raise CliError(str(exc)) from None
    show([{"AccessKeyId": access_key_id, "Deleted": True}], as_json)


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _check_url(option: str, value: str | None, cfg: Settings) -> None:
    from .outbound import OutboundPolicy, OutboundRefused

    if value is not None:
        try:
            OutboundPolicy(allow_private=cfg.outbound_allow_private).check_url(value)
        except OutboundRefused as exc:
            raise CliError(f"{option}: {exc}") from None


def _space_row(s: Any) -> dict[str, Any]:
    return {
        "CustSpaceId": s.id,
        "AccountId": s.account_id,
        "WabaId": s.waba_id,
        "StatusCallbackUrl": s.status_callback_url,
        "UpCallbackUrl": s.up_callback_url,
        "LastSyncAt": s.last_sync_at.isoformat() if s.last_sync_at else None,
        "LastSyncCode": s.last_sync_code,
    }


@space_cmd.command("create")
def space_create(
    account: Annotated[str, typer.Option(help="Account id.")],
    waba_id: Annotated[str, typer.Option("--waba-id", help="WhatsApp Business Account id at Meta.")],
    graph_token: Annotated[str | None, typer.Option(help="Meta token for this space (stored encrypted).")] = None,
    status_callback_url: Annotated[str | None, typer.Option(help="Default status-report URL for its numbers.")] = None,
    up_callback_url: Annotated[str | None, typer.Option(help="Default inbound-message URL for its numbers.")] = None,
    space_id: Annotated[
        str | None, typer.Option("--space-id", help="Use this CustSpaceId instead of a new one.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a customer space bound to a WABA."""
    if not waba_id.isdigit() or len(waba_id) > 32:
        raise CliError("--waba-id must be Meta's numeric WABA id")
    if space_id is not None and not (0 < len(space_id) <= 64 and space_id.isprintable() and " " not in space_id):
        raise CliError("--space-id must be 1 to 64 printable characters without spaces")
    cfg = settings()
    _check_url("--status-callback-url", status_callback_url, cfg)
    _check_url("--up-callback-url", up_callback_url, cfg)

    async def create(c: Any) -> Any:
        await c.accounts.get_account(account)
        if space_id is not None and await c.spaces.find_space(space_id) is not None:
            raise CliError(f"space {space_id} already exists")
        return await c.spaces.create_space(
            account,
            waba_id,
            graph_token=graph_token,
            status_callback_url=status_callback_url,
            up_callback_url=up_callback_url,
            space_id=space_id,
        )

    show([_space_row(run(create))], as_json)


@space_cmd.command("list")
def space_list(account: Annotated[str, typer.Option(help="Account id.")], as_json: JsonOpt = False) -> None:
    """List an account's spaces with their last sync outcome."""

    async def spaces(c: Any) -> Any:
        await c.accounts.get_account(account)
        return await c.spaces.list_spaces(account)

    show([_space_row(s) for s in run(spaces)], as_json, key="Spaces")


@space_cmd.command("delete")
def space_delete(
    space_id: Annotated[str, typer.Option("--space-id", help="CustSpaceId.")],
    with_numbers: Annotated[
        bool, typer.Option("--with-numbers", help="Also drop the numbers it still holds (they stay at Meta).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete a customer space; one still holding numbers is refused without --with-numbers."""
    from .db.spaces import SpaceInUse

    try:
        dropped = run(lambda c: c.spaces.delete_space(space_id, with_numbers=with_numbers))
    except SpaceInUse as exc:
        raise CliError(str(exc)) from None
    show([{"CustSpaceId": space_id, "Deleted": True, "NumbersDropped": dropped}], as_json)


@waba_cmd.command("blocks")
def waba_blocks(as_json: JsonOpt = False) -> None:
    """List the WABAs Meta asked opencams to stop calling, and until when."""
    import math
    from datetime import UTC, datetime

    from .db.budget import WabaBudgetStore

    blocks = run(lambda c: WabaBudgetStore(c.engine).list_blocks())
    rows = [
        {
            "WabaId": b.waba_id,
            # A block stored before blocks were capped may be infinite.
            "BlockedUntil": datetime.fromtimestamp(b.blocked_until, UTC).isoformat(timespec="seconds")
            if math.isfinite(b.blocked_until)
            else "never (malformed)",
            "Reason": b.reason,
        }
        for b in blocks
    ]
    show(rows, as_json, key="Blocks")


@waba_cmd.command("unblock")
def waba_unblock(
    waba_id: Annotated[str, typer.Option("--waba-id", help="WhatsApp Business Account id at Meta.")],
    as_json: JsonOpt = False,
) -> None:
    """Lift Meta's block on a WABA now: the next sync calls Meta again."""
    from .db.budget import WabaBudgetStore

    if not run(lambda c: WabaBudgetStore(c.engine).clear(waba_id)):
        raise CliError(f"WABA {waba_id} is not blocked")
    show([{"WabaId": waba_id, "Blocked": False}], as_json)


@db_cmd.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Option(help="Target revision.")] = "head") -> None:
    """Migrate the database schema (run before restarting on a new version)."""
    from alembic.util.exc import CommandError

    cfg = settings()
    database_revision(cfg)  # reachable, or one line saying why not
    try:
        resealed = migrate(cfg, revision)
    except CommandError as exc:
        raise CliError(f"--revision {revision}: {str(exc).splitlines()[0]}") from None
    console.print(f"database at {revision}" + (f"; {resealed} stored secrets re-sealed" if resealed else ""))
