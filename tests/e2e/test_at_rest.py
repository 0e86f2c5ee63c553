"""What opencams leaves on disk and in its database: owner-only files, no token, current sealing."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_cams20200606 import models
from cryptography.fernet import Fernet

from opencams.config import Settings

from ..harness import WABA_250, Admin, Emulator, new_sdk

OPENCAMS = str(Path(sys.executable).parent / "opencams")


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENCAMS, *args], env=env, capture_output=True, text=True, timeout=120)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_directory_and_database_files_are_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCAMS_")}
    env["OPENCAMS_DATA_DIR"] = str(data)
    done = cli(env, "admin", "account", "create", "--name", "x", "--json")
    assert done.returncode == 0, done.stderr
    assert mode(data) == 0o700
    files = {p.name: mode(p) for p in data.iterdir()}
    assert files["secret.key"] == 0o600
    assert files["opencams.db"] == 0o600
    assert all(m == 0o600 for m in files.values()), files
    # An existing deployment made before is narrowed when it next starts.
    os.chmod(data, 0o755)
    os.chmod(data / "opencams.db", 0o644)
    assert cli(env, "admin", "account", "list", "--json").returncode == 0
    assert mode(data) == 0o700
    assert mode(data / "opencams.db") == 0o600


OTHER_META_TOKEN = "EAAGm0PX4ZCpsBA" + "Zx9" * 20


@pytest.mark.parametrize(
    ("own_token", "echo"),
    [
        (None, "test-token"),
        (None, "TEST-TOKEN"),
        (None, OTHER_META_TOKEN),  # a real-looking Meta token, even one that is not this space's
        ("space-own-token", "space-own-token"),
        ("space-own-token", "Space-Own-TOKEN"),
        ("space-own-token", "test-token"),  # the deployment's token, though the space has its own
    ],
)
def test_a_token_meta_echoes_is_stored_and_answered_masked(
    server: str, admin: Admin, emulator: Emulator, own_token: str | None, echo: str
) -> None:
    from ..harness import SECRETS

    SECRETS.update({"space-own-token", OTHER_META_TOKEN})
    account = admin.account()
    key = admin.key(account)
    space = admin.space(account, graph_token=own_token) if own_token else admin.space(account)
    emulator.add_fault(
        {
            "path": f"*/{WABA_250}/phone_numbers",
            "action": {"error": {"code": 190, "status": 401, "message": f"Invalid OAuth access token - {echo}."}},
        }
    )
    with pytest.raises(Exception) as info:
        new_sdk(server, key).chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space))
    assert "ERR-FB-001" in str(info.value)
    assert echo.lower() not in str(info.value).lower()
    stored = admin.run(lambda c: c.spaces.get_space(space))
    assert stored.last_sync_code == "ERR-FB-001"
    assert echo.lower() not in (stored.last_sync_message or "").lower()
    assert "Invalid OAuth access token - ***." in (stored.last_sync_message or "")


def test_upgrade_reseals_secrets_stored_the_old_way(settings: Settings, admin: Admin, server: str) -> None:
    account = admin.account()
    ak, secret = admin.key(account)
    space = admin.space(account, graph_token="test-token")
    legacy = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"test-deployment-key").digest()))

    from sqlalchemy import select, update

    from opencams.db.engine import write
    from opencams.db.tables import access_keys, spaces

    async def make_legacy(c: Any) -> None:
        async with write(c.engine) as conn:
            await conn.execute(
                update(access_keys)
                .where(access_keys.c.id == ak)
                .values(secret_enc=legacy.encrypt(secret.encode()).decode())
            )
            await conn.execute(
                update(spaces)
                .where(spaces.c.id == space)
                .values(graph_token_enc=legacy.encrypt(b"test-token").decode())
            )

    async def sealed(c: Any) -> tuple[str, str]:
        async with c.engine.connect() as conn:
            key_row = (await conn.execute(select(access_keys.c.secret_enc).where(access_keys.c.id == ak))).scalar_one()
            space_row = (await conn.execute(select(spaces.c.graph_token_enc).where(spaces.c.id == space))).scalar_one()
        return key_row, space_row

    admin.run(make_legacy)
    assert not any(v.startswith("v2:") for v in admin.run(sealed))
    # Old values still work before the upgrade...
    client = new_sdk(server, (ak, secret))
    assert client.chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space)).body.code == "OK"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCAMS_")}
    env.update(
        OPENCAMS_DATA_DIR=str(settings.data_dir),
        OPENCAMS_DATABASE_URL=settings.effective_database_url,
        OPENCAMS_SECRET_KEY="test-deployment-key",
    )
    done = cli(env, "admin", "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "2 stored secrets re-sealed" in done.stdout
    assert all(v.startswith("v2:") for v in admin.run(sealed))
    # ... and after it; a second upgrade has nothing left to do.
    assert client.chatapp_sync_phone_number(models.ChatappSyncPhoneNumberRequest(cust_space_id=space)).body.code == "OK"
    again = cli(env, "admin", "db", "upgrade")
    assert "re-sealed" not in again.stdout
    assert json.loads(cli(env, "admin", "space", "list", "--account", account, "--json").stdout)["Spaces"]
