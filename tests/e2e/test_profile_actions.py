"""Business profiles through the SDKs, and the profile-picture download against hostile URLs."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from alibabacloud_tea_openapi.exceptions import ClientException

from opencams.config import Settings

from ..harness import (
    Admin,
    Emulator,
    legacy_action,
    load_fixture,
    new_sdk,
    node_action,
    node_available,
    sdk_call,
    serve_app,
    sign_v3,
)
from .business import APP_ID, FIRST, LUCKY

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(200))


class Listener:
    """A loopback HTTP server that records every connection and serves what a path asks for."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.hits: list[str] = []
        self.sent_of_big = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            request = conn.recv(65536).decode("latin-1")
            path = request.split(" ")[1] if " " in request else "?"
            self.hits.append(path)
            try:
                if path == "/logo.png":
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: %d\r\n\r\n" % len(PNG) + PNG
                    )
                elif path == "/page.html":
                    body = b"<html>not a picture</html>"
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
                elif path.startswith("/redirect?to="):
                    target = path.removeprefix("/redirect?to=")
                    conn.sendall(f"HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\n\r\n".encode())
                elif path == "/huge.png":  # 50 MB promised and trickled: the reader must stop early
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: %d\r\n\r\n" % (50 << 20)
                    )
                    self._stream(conn, chunked=False)
                elif path == "/huge-chunked.png":  # no length given at all
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ntransfer-encoding: chunked\r\n\r\n")
                    self._stream(conn, chunked=True)
                else:
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
            except OSError:
                pass

    def _stream(self, conn: socket.socket, *, chunked: bool) -> None:
        block = PNG[:8] + b"\x00" * (65536 - 8)
        for _ in range(800):  # 50 MB
            conn.sendall((b"10000\r\n" + block + b"\r\n") if chunked else block)
            self.sent_of_big += len(block)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def start(settings: Settings, emulator: Emulator, **overrides: Any) -> Any:
    from opencams.bootstrap import create_app

    emulator.set_state(load_fixture("business.json"))
    return serve_app(create_app(settings.model_copy(update={"meta_app_id": APP_ID, **overrides})))


@pytest.fixture
def strict(settings: Settings, emulator: Emulator, admin: Admin) -> Iterator[tuple[str, tuple[str, str], str]]:
    """A server with the default outbound policy, an account and its synced space."""
    with start(settings, emulator) as url:
        server = url.removeprefix("http://")
        account = admin.account()
        key = admin.key(account)
        sdk = new_sdk(server, key)
        space = sdk_call(sdk, "ChatappBindWaba", waba_id=LUCKY).data.cust_space_id
        sdk_call(sdk, "ChatappSyncPhoneNumber", cust_space_id=space)
        yield server, key, space


def modify(server: str, key: tuple[str, str], space: str, **params: Any) -> Any:
    return sdk_call(
        new_sdk(server, key), "ModifyPhoneBusinessProfile", cust_space_id=space, phone_number=FIRST, **params
    )


def refused(server: str, key: tuple[str, str], space: str, **params: Any) -> ClientException:
    with pytest.raises(ClientException) as info:
        modify(server, key, space, **params)
    return info.value


def test_query_profile_through_every_sdk(strict: tuple[str, tuple[str, str], str]) -> None:
    server, key, space = strict
    body = sdk_call(new_sdk(server, key), "QueryPhoneBusinessProfile", cust_space_id=space, phone_number=FIRST)
    assert body.success is True
    assert body.data.to_map() == {
        "About": "Succulents and more",
        "Address": "1 Hacker Way, Menlo Park, CA 94025",
        "Description": "Plants delivered",
        "Email": "hello@luckyshrub.example",
        "Websites": ["https://luckyshrub.example"],
        "Vertical": "RETAIL",
    }
    legacy = legacy_action(server, key, "QueryPhoneBusinessProfile", CustSpaceId=space, PhoneNumber=FIRST)
    assert legacy["Data"]["About"] == "Succulents and more"
    if node_available():
        node = node_action(server, key, "QueryPhoneBusinessProfile", custSpaceId=space, phoneNumber=FIRST)
        assert node["body"]["Data"]["Vertical"] == "RETAIL"


def test_modify_profile_reads_back(strict: tuple[str, tuple[str, str], str]) -> None:
    server, key, space = strict
    body = modify(
        server,
        key,
        space,
        about="New about",
        vertical="HOTEL",
        websites=["https://a.example", "http://b.example"],
        email="ops@luckyshrub.example",
    )
    assert body.code == "OK" and body.success is True
    data = sdk_call(new_sdk(server, key), "QueryPhoneBusinessProfile", cust_space_id=space, phone_number=FIRST).data
    assert (data.about, data.vertical, data.websites, data.email) == (
        "New about",
        "HOTEL",
        ["https://a.example", "http://b.example"],
        "ops@luckyshrub.example",
    )
    assert data.address == "1 Hacker Way, Menlo Park, CA 94025"  # untouched fields stay
    legacy = legacy_action(
        server, key, "ModifyPhoneBusinessProfile", CustSpaceId=space, PhoneNumber=FIRST, Websites=["https://c.example"]
    )
    assert legacy["Code"] == "OK"
    if node_available():
        node = node_action(
            server, key, "ModifyPhoneBusinessProfile", custSpaceId=space, phoneNumber=FIRST, about="From Node"
        )
        assert node["body"]["Code"] == "OK"


@pytest.mark.parametrize(
    ("params", "code", "named"),
    [
        ({"about": "x" * 140}, "InvalidParameter", "About"),
        ({"address": "x" * 257}, "InvalidParameter", "Address"),
        ({"description": "x" * 513}, "InvalidParameter", "Description"),
        ({"email": "x" * 129}, "InvalidParameter", "Email"),
        ({"vertical": "PLANTS"}, "InvalidParameter", "Vertical"),
        ({"websites": ["https://a.example", "https://b.example", "https://c.example"]}, "InvalidParameter", "Websites"),
        ({"websites": ["ftp://a.example"]}, "ERR-OPERATION-MAAP-0085", "Websites"),
        ({"websites": ["https://a.example/" + "p" * 300]}, "InvalidParameter", "Websites"),
    ],
)
def test_profile_limits(
    strict: tuple[str, tuple[str, str], str], params: dict[str, str], code: str, named: str
) -> None:
    server, key, space = strict
    error = refused(server, key, space, **params)
    assert error.code == code
    assert named in error.message


def test_unknown_number_and_foreign_space(strict: tuple[str, tuple[str, str], str], admin: Admin) -> None:
    server, key, space = strict
    with pytest.raises(ClientException) as info:
        sdk_call(new_sdk(server, key), "QueryPhoneBusinessProfile", cust_space_id=space, phone_number="123")
    assert info.value.code == "ERR-OPERATION-MAAP-0065"
    other = admin.account()
    with pytest.raises(ClientException) as info:
        sdk_call(
            new_sdk(server, admin.key(other)), "QueryPhoneBusinessProfile", cust_space_id=space, phone_number=FIRST
        )
    assert info.value.code == "Unknown.ResourceOwnerId"


def _loopback_name() -> str | None:
    name = socket.gethostname()
    try:
        return name if any(i[4][0].startswith("127.") for i in socket.getaddrinfo(name, 80)) else None
    except OSError:
        return None


def test_pictures_from_internal_addresses_are_never_fetched(
    strict: tuple[str, tuple[str, str], str], listener: Listener
) -> None:
    server, key, space = strict
    port = listener.port
    targets = [
        listener.url("/logo.png"),
        f"http://[::ffff:127.0.0.1]:{port}/logo.png",
        f"http://2130706433:{port}/logo.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/logo.png",
        "file:///etc/passwd",
        f"http://localhost:{port}/logo.png",
    ]
    if (name := _loopback_name()) is not None:
        targets.append(listener.url("/logo.png", host=name))  # a name that resolves to loopback
    for url in targets:
        error = refused(server, key, space, profile_picture_url=url)
        assert error.code == "InvalidParameter", url
        assert "ProfilePictureUrl" in error.message
    assert listener.hits == []


@pytest.fixture
def dev(
    settings: Settings, emulator: Emulator, admin: Admin, listener: Listener
) -> Iterator[tuple[str, tuple[str, str], str]]:
    """A server allowed to call loopback (development setting), so the listener can serve pictures."""
    with start(settings, emulator, outbound_allow_private=True) as url:
        server = url.removeprefix("http://")
        account = admin.account()
        key = admin.key(account)
        sdk = new_sdk(server, key)
        space = sdk_call(sdk, "ChatappBindWaba", waba_id=LUCKY).data.cust_space_id
        sdk_call(sdk, "ChatappSyncPhoneNumber", cust_space_id=space)
        yield server, key, space


def test_a_picture_is_downloaded_checked_and_uploaded_to_meta(
    dev: tuple[str, tuple[str, str], str], listener: Listener, emulator: Emulator
) -> None:
    server, key, space = dev
    assert modify(server, key, space, profile_picture_url=listener.url("/logo.png")).code == "OK"
    uploads = httpx.get(f"{emulator.url}/_emulator/uploads").json()["uploads"]
    assert [(u["file_type"], u["file_length"], u["sha256"], u["complete"]) for u in uploads] == [
        ("image/png", len(PNG), hashlib.sha256(PNG).hexdigest(), True)
    ]
    data = sdk_call(new_sdk(server, key), "QueryPhoneBusinessProfile", cust_space_id=space, phone_number=FIRST).data
    assert data.profile_picture_url.startswith("https://pps.whatsapp.net/")


def test_even_with_the_development_setting_redirects_to_metadata_are_refused(
    dev: tuple[str, tuple[str, str], str], listener: Listener
) -> None:
    server, key, space = dev
    for target in ("http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "http://[fe80::1]/"):
        error = refused(server, key, space, profile_picture_url=listener.url(f"/redirect?to={target}"))
        assert error.code == "InvalidParameter" and "ProfilePictureUrl" in error.message, target
    assert refused(server, key, space, profile_picture_url="http://169.254.169.254/").code == "InvalidParameter"


def test_what_is_not_a_small_picture_is_refused(dev: tuple[str, tuple[str, str], str], listener: Listener) -> None:
    server, key, space = dev
    not_image = refused(server, key, space, profile_picture_url=listener.url("/page.html"))
    assert "not a JPEG or PNG" in not_image.message
    missing = refused(server, key, space, profile_picture_url=listener.url("/missing.png"))
    assert "HTTP 404" in missing.message
    declared = refused(server, key, space, profile_picture_url=listener.url("/huge.png"))
    assert "larger than" in declared.message
    listener.sent_of_big = 0
    chunked = refused(server, key, space, profile_picture_url=listener.url("/huge-chunked.png"))
    assert "larger than" in chunked.message
    # The download stopped soon after the 5 MB cap, far from the 50 MB offered.
    assert listener.sent_of_big < 20 << 20


@pytest.mark.parametrize("websites", ['"https://a.example"', "[1, 2]", "not json", "[" * 5000, '{"a": 1}'])
def test_websites_must_be_a_json_array_of_strings(strict: tuple[str, tuple[str, str], str], websites: str) -> None:
    server, key, space = strict
    query, headers = sign_v3(
        *key,
        server,
        action="ModifyPhoneBusinessProfile",
        query={"CustSpaceId": space, "PhoneNumber": FIRST, "Websites": websites},
    )
    answer = httpx.post(f"http://{server}/?{query}", headers=headers)
    assert answer.status_code == 400
    assert answer.json()["Code"] == "InvalidParameter"
    assert "Websites" in answer.json()["Message"]
