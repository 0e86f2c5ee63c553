"""`opencams demo`: emulator + server on free ports, an ISV set up, a sync through the official SDK.

Everything lives in a temporary data directory that is removed at the end.
"""

from __future__ import annotations

import asyncio
import json
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import uvicorn
from rich.console import Console
from rich.table import Table
from starlette.types import ASGIApp

from .bootstrap import build_container, create_app
from .config import Settings
from .db.migrate import upgrade
from .emulator.app import create_app as create_emulator

DEMO_TOKEN = "demo-token"
# Table header -> CAMS field; short headers keep the table readable in 80 columns.
COLUMNS = {
    "PhoneNumber": "PhoneNumber",
    "VerifiedName": "VerifiedName",
    "Status": "Status",
    "Quality": "QualityRating",
    "Code": "CodeVerificationStatus",
    "Name": "NameStatus",
    "Tier": "MessagingLimitTier",
    "OBA": "IsOfficial",
}


@contextmanager
def _serve(app: ASGIApp, lifespan: Literal["on", "off"]) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan=lifespan, proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("a demo server did not start")
        time.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


async def _setup(settings: Settings, wabas: dict[str, Any]) -> tuple[str, str, str, list[tuple[str, str]]]:
    container = build_container(settings)
    try:
        account = await container.accounts.create_account("Demo ISV")
        key = await container.accounts.create_access_key(account.id)
        spaces = []
        for waba_id, waba in wabas.items():
            space = await container.spaces.create_space(
                account.id,
                waba_id,
                status_callback_url="https://isv.example.com/cams/status",
                up_callback_url="https://isv.example.com/cams/inbound",
            )
            spaces.append((space.id, str(waba.get("name", waba_id))))
        # A space whose WABA the deployment's token cannot read, to show Meta's refusal.
        denied = await container.spaces.create_space(account.id, "999999999999999")
        spaces.append((denied.id, "(a WABA this token cannot read)"))
        return account.id, key.id, key.secret, spaces
    finally:
        await container.aclose()


def run_demo(console: Console) -> None:
    """Run the whole demo, printing what happens."""
    try:
        from alibabacloud_cams20200606 import models
        from alibabacloud_cams20200606.client import Client
        from alibabacloud_tea_openapi.exceptions import ClientException, ServerException
        from alibabacloud_tea_openapi.utils_models import Config
    except ImportError:
        raise SystemExit("the demo calls opencams through Alibaba's SDK: pip install 'opencams[demo]'") from None

    fixture = json.loads((Path(__file__).parent / "emulator" / "fixtures" / "demo.json").read_text())
    with (
        tempfile.TemporaryDirectory(prefix="opencams-demo-") as tmp,
        _serve(create_emulator(fixture), "off") as graph,
    ):
        settings = Settings(
            data_dir=Path(tmp),
            database_url=None,
            graph_url=f"http://{graph}",
            graph_token=DEMO_TOKEN,  # type: ignore[arg-type]
            redis_url=None,
            log_level="ERROR",
        )
        upgrade(settings.effective_database_url)
        account, ak, secret, spaces = asyncio.run(_setup(settings, fixture["wabas"]))
        console.print(f"[bold]Graph emulator[/] http://{graph}   [bold]data[/] {tmp}")
        console.print(f"Created account [cyan]{account}[/], AccessKey [cyan]{ak}[/] and {len(spaces)} customer spaces.")
        with _serve(create_app(settings), "on") as endpoint:
            console.print(f"[bold]opencams[/] http://{endpoint}\n")
            client = Client(
                Config(
                    access_key_id=ak,
                    access_key_secret=secret,
                    endpoint=endpoint,
                    protocol="http",
                    region_id="ap-southeast-1",
                )
            )
            for space_id, name in spaces:
                request = models.ChatappSyncPhoneNumberRequest(cust_space_id=space_id)
                try:
                    body = client.chatapp_sync_phone_number(request).body
                except (ClientException, ServerException) as exc:
                    console.print(f"[bold]{name}[/]  CustSpaceId {space_id}\n  [red]{exc.code}[/]: {exc.message}\n")
                    continue
                table = Table(title=f"{name}  —  CustSpaceId {space_id}  —  {body.code}", title_justify="left")
                for header in COLUMNS:
                    table.add_column(header, overflow="fold")
                for number in body.phone_numbers:
                    row = number.to_map()
                    table.add_row(*(row.get(field, "") for field in COLUMNS.values()))
                console.print(table)
                urls = {(n.status_callback_url, n.up_callback_url) for n in body.phone_numbers}
                for status_url, up_url in sorted(urls, key=str):
                    console.print(f"  StatusCallbackUrl {status_url}   UpCallbackUrl {up_url}\n")
        console.print("Demo finished: server and emulator stopped, temporary data removed.")
