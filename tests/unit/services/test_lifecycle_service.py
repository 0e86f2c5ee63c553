"""The lifecycle use case with in-memory fakes: which PIN reaches Meta, when it is kept, what a refusal leaves."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from opencams.db.spaces import Space
from opencams.domain.errors import InvalidValue
from opencams.domain.phone_numbers import MetaNumber, StoredNumber
from opencams.graph.client import FetchReport
from opencams.graph.errors import GraphApiError, GraphError, GraphTransportError
from opencams.services.lifecycle import LifecycleService, check_public_key, new_pin
from opencams.services.meta import MetaService

NUMBER_ID = "310000000000009"
SPACE = Space("cs-1", "1000", "300000000000001", None, None, None, None, None, None)
NUMBER = StoredNumber(
    MetaNumber(NUMBER_ID, "+1 555 0100", "Shop", "PENDING", None, "VERIFIED", None, None, None, None, None),
    None,
    None,
)


def refusal(code: int, message: str = "refused") -> GraphApiError:
    return GraphApiError(
        http_status=400,
        code=code,
        subcode=None,
        type="OAuthException",
        message=message,
        fbtrace_id="T",
        is_transient=False,
    )


class FakeGraph:
    """Meta as far as these tests need it: scripted answers, every call recorded."""

    def __init__(self, *, pin_enabled: bool | None, refuse: dict[str, GraphError] | None = None) -> None:
        self.pin_enabled = pin_enabled
        self.refuse = refuse or {}
        self.posts: list[tuple[str, dict[str, str]]] = []
        self.node_reads = 0

    async def get(
        self, path: str, token: str, params: Mapping[str, str] | None = None, report: FetchReport | None = None
    ) -> dict[str, Any]:
        fields = (params or {}).get("fields", "")
        if fields == "id,is_pin_enabled":
            return {"id": path} if self.pin_enabled is None else {"id": path, "is_pin_enabled": self.pin_enabled}
        self.node_reads += 1
        if "node" in self.refuse:
            raise self.refuse["node"]
        return {"id": path, "display_phone_number": "+1 555 0100", "status": "CONNECTED"}

    async def post(self, path: str, token: str, *, data: Mapping[str, str] | None = None, **_: Any) -> dict[str, Any]:
        self.posts.append((path, dict(data or {})))
        edge = path.rsplit("/", 1)[-1] if "/" in path else "pin"
        if edge in self.refuse:
            raise self.refuse[edge]
        return {"success": True}

    async def delete(self, path: str, token: str, report: FetchReport | None = None) -> dict[str, Any]:
        raise AssertionError("not used")

    async def list_phone_numbers(
        self, waba_id: str, token: str, fields: Sequence[str], report: FetchReport | None = None
    ) -> list[dict[str, Any]]:
        raise AssertionError("not used")


class FakeBudget:
    async def block(self, waba_id: str, until: float, reason: str) -> None:
        raise AssertionError("no block expected")


class FakePins:
    def __init__(self, kept: str | None = None) -> None:
        self.kept: dict[str, str] = {NUMBER_ID: kept} if kept else {}

    async def pin(self, phone_number_id: str) -> str | None:
        return self.kept.get(phone_number_id)

    async def keep(self, phone_number_id: str, candidate: str) -> str:
        return self.kept.setdefault(phone_number_id, candidate)


class FakeNumbers:
    def __init__(self) -> None:
        self.stored: list[tuple[str, MetaNumber]] = []

    async def store_number(
        self, space_id: str, meta: MetaNumber, node: dict[str, Any], read_started_at: float
    ) -> StoredNumber:
        self.stored.append((space_id, meta))
        return StoredNumber(meta, None, None)


def service(graph: FakeGraph, pins: FakePins) -> tuple[LifecycleService, FakeNumbers]:
    numbers = FakeNumbers()
    meta = MetaService(graph, FakeBudget(), default_token="deployment-token", clock=lambda: 1000.0)
    return LifecycleService(meta, numbers, pins), numbers


def register(graph: FakeGraph, pins: FakePins) -> FakeNumbers:
    use_case, numbers = service(graph, pins)
    asyncio.run(use_case.register(SPACE, NUMBER))
    return numbers


def test_without_a_pin_at_meta_opencams_keeps_one_then_sets_it_then_registers() -> None:
    graph, pins = FakeGraph(pin_enabled=False), FakePins()
    numbers = register(graph, pins)
    pin = pins.kept[NUMBER_ID]
    assert graph.posts == [
        (NUMBER_ID, {"pin": pin}),
        (f"{NUMBER_ID}/register", {"messaging_product": "whatsapp", "pin": pin}),
    ]
    assert [meta.status for _, meta in numbers.stored] == ["CONNECTED"]


def test_meta_not_saying_counts_as_no_pin() -> None:
    graph, pins = FakeGraph(pin_enabled=None), FakePins()
    register(graph, pins)
    assert [path for path, _ in graph.posts] == [NUMBER_ID, f"{NUMBER_ID}/register"]


def test_a_kept_pin_is_set_again_when_meta_has_none() -> None:
    graph, pins = FakeGraph(pin_enabled=False), FakePins(kept="424242")
    register(graph, pins)
    assert graph.posts[0] == (NUMBER_ID, {"pin": "424242"}) and graph.posts[1][1]["pin"] == "424242"


def test_a_kept_pin_meta_has_is_only_used() -> None:
    graph, pins = FakeGraph(pin_enabled=True), FakePins(kept="424242")
    register(graph, pins)
    assert graph.posts == [(f"{NUMBER_ID}/register", {"messaging_product": "whatsapp", "pin": "424242"})]


def test_a_pin_set_elsewhere_is_not_replaced_and_nothing_is_kept() -> None:
    graph = FakeGraph(pin_enabled=True, refuse={"register": refusal(133005)})
    pins = FakePins()
    use_case, numbers = service(graph, pins)
    with pytest.raises(GraphApiError) as info:
        asyncio.run(use_case.register(SPACE, NUMBER))
    assert info.value.code == 133005
    assert [path for path, _ in graph.posts] == [f"{NUMBER_ID}/register"]  # no POST of a PIN
    assert pins.kept == {} and numbers.stored == [] and graph.node_reads == 0


def test_a_fresh_pin_meta_accepts_is_kept() -> None:
    graph, pins = FakeGraph(pin_enabled=True), FakePins()
    register(graph, pins)
    assert pins.kept[NUMBER_ID] == graph.posts[0][1]["pin"]


def test_meta_echoing_the_pin_or_the_code_is_masked() -> None:
    graph = FakeGraph(pin_enabled=True, refuse={"register": refusal(133005, "PIN 424242 is wrong")})
    use_case, _ = service(graph, FakePins(kept="424242"))
    with pytest.raises(GraphApiError) as info:
        asyncio.run(use_case.register(SPACE, NUMBER))
    assert "424242" not in info.value.message and "424242" not in str(info.value)
    graph = FakeGraph(pin_enabled=True, refuse={"verify_code": refusal(136025, "code 135790 expired")})
    use_case, numbers = service(graph, FakePins())
    with pytest.raises(GraphApiError) as info:
        asyncio.run(use_case.verify_and_register(SPACE, NUMBER, "135790"))
    assert "135790" not in str(info.value) and numbers.stored == []  # the code was refused: nothing to store


def test_a_registration_refused_after_the_code_was_accepted_stores_the_number() -> None:
    graph = FakeGraph(pin_enabled=False, refuse={"register": refusal(133016)})
    use_case, numbers = service(graph, FakePins())
    with pytest.raises(GraphApiError):
        asyncio.run(use_case.verify_and_register(SPACE, NUMBER, "135790"))
    assert [path for path, _ in graph.posts] == [f"{NUMBER_ID}/verify_code", NUMBER_ID, f"{NUMBER_ID}/register"]
    assert len(numbers.stored) == 1


def test_a_failed_read_after_a_step_is_logged_and_the_step_still_answers(caplog: pytest.LogCaptureFixture) -> None:
    graph = FakeGraph(pin_enabled=False, refuse={"node": GraphTransportError("Meta did not answer in time")})
    pins = FakePins()
    use_case, numbers = service(graph, pins)
    with caplog.at_level(logging.WARNING, "opencams.lifecycle"):
        asyncio.run(use_case.register(SPACE, NUMBER))
    assert numbers.stored == []
    (line,) = caplog.messages
    assert '"event":"number_refresh_failed"' in line and NUMBER_ID in line and pins.kept[NUMBER_ID] not in line


def test_pins_are_six_digits_leading_zeros_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(len(p) == 6 and p.isdigit() for p in (new_pin() for _ in range(200)))
    assert len({new_pin() for _ in range(200)}) > 150
    monkeypatch.setattr(secrets, "randbelow", lambda n: 42)
    assert new_pin() == "000042"


def _pem(key: Any) -> str:
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return str(public.decode())


def test_only_a_2048_bit_rsa_public_key_in_pem_passes() -> None:
    check_public_key(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    pkcs1 = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        .decode()
    )
    check_public_key(pkcs1)
    for bad, why in (
        ("", "PEM format"),
        ("-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----", "PEM format"),
        (_pem(rsa.generate_private_key(public_exponent=65537, key_size=3072)), "3072-bit RSA key"),
        (_pem(ec.generate_private_key(ec.SECP256R1())), "not an RSA key"),
    ):
        with pytest.raises(InvalidValue) as info:
            check_public_key(bad)
        assert info.value.param == "EncryptionPublicKey" and why in info.value.why


def test_an_added_number_longer_than_e164_is_refused_before_meta() -> None:
    graph = FakeGraph(pin_enabled=None)
    use_case, _ = service(graph, FakePins())
    with pytest.raises(InvalidValue) as info:
        asyncio.run(use_case.add(SPACE, cc="+44", local_number="7" * 14, verified_name="Shop", preverified_id=None))
    assert info.value.param == "PhoneNumber" and graph.posts == []


def test_an_added_number_is_read_back_and_stored() -> None:
    class Adding(FakeGraph):
        async def post(
            self, path: str, token: str, *, data: Mapping[str, str] | None = None, **_: Any
        ) -> dict[str, Any]:
            self.posts.append((path, dict(data or {})))
            return {"id": NUMBER_ID}

    graph = Adding(pin_enabled=None)
    use_case, numbers = service(graph, FakePins())
    stored = asyncio.run(
        use_case.add(SPACE, cc="+1", local_number="5550100", verified_name="Shop", preverified_id="77")
    )
    assert graph.posts == [
        (
            f"{SPACE.waba_id}/phone_numbers",
            {"cc": "1", "phone_number": "5550100", "verified_name": "Shop", "preverified_id": "77"},
        )
    ]
    assert stored is not None and numbers.stored[0][1].id == NUMBER_ID
