"""The Flows encryption key edge: 2048-bit RSA PEM only, kept byte for byte, status read back."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from opencams.emulator import create_app

from .helpers import BASE_URL, CONNECTED, LIFE_AUTH, UK, W2, W2_TOKEN, graph_error, life_state

pytestmark = pytest.mark.asyncio

EDGE = f"/v23.0/{CONNECTED}/whatsapp_business_encryption"


def rsa_pem(bits: int = 2048) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def pem() -> str:
    return rsa_pem()


async def test_no_key_is_an_empty_list(life: httpx.AsyncClient) -> None:
    response = await life.get(EDGE, headers=LIFE_AUTH)
    assert response.status_code == 200
    assert response.json() == {"data": []}


async def test_set_and_read_back(life: httpx.AsyncClient, pem: str) -> None:
    response = await life.post(EDGE, headers=LIFE_AUTH, data={"business_public_key": pem})
    assert response.json() == {"success": True}
    read = await life.get(EDGE, headers=LIFE_AUTH)
    assert read.json() == {"data": [{"business_public_key": pem, "business_public_key_signature_status": "VALID"}]}
    only = await life.get(EDGE, headers=LIFE_AUTH, params={"fields": "business_public_key_signature_status"})
    assert only.json() == {"data": [{"business_public_key_signature_status": "VALID"}]}
    stored = (await life.get("/_emulator/state")).json()["wabas"]["880000000000001"]["phone_numbers"][0]
    assert stored["business_public_key"] == pem


async def test_pem_in_the_query_as_sdk5_sends_it(life: httpx.AsyncClient, pem: str) -> None:
    response = await life.post(EDGE, headers=LIFE_AUTH, params={"business_public_key": pem})
    assert response.json() == {"success": True}
    assert (await life.get(EDGE, headers=LIFE_AUTH)).json()["data"][0]["business_public_key"] == pem


def ec_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize("make", [lambda: rsa_pem(1024), lambda: rsa_pem(4096), ec_pem, lambda: "not a key"])
async def test_anything_but_rsa_2048_is_rejected(life: httpx.AsyncClient, make: object) -> None:
    assert callable(make)
    response = await life.post(EDGE, headers=LIFE_AUTH, json={"business_public_key": make()})
    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["message"]) == (100, "(#100) Invalid parameter")
    assert error["error_data"] == {
        "messaging_product": "whatsapp",
        "details": "business_public_key must be a valid 2048-bit RSA public key in PEM format",
    }
    assert (await life.get(EDGE, headers=LIFE_AUTH)).json() == {"data": []}


async def test_missing_key(life: httpx.AsyncClient) -> None:
    response = await life.post(EDGE, headers=LIFE_AUTH)
    assert graph_error(response)["message"] == "(#100) The parameter business_public_key is required"


async def test_unknown_field(life: httpx.AsyncClient) -> None:
    response = await life.get(EDGE, headers=LIFE_AUTH, params={"fields": "private_key"})
    assert graph_error(response)["message"] == (
        "(#100) Tried accessing nonexisting field (private_key) on node type (WhatsAppBusinessEncryption)"
    )


async def test_mismatch_status_from_the_state(pem: str) -> None:
    state = life_state()
    state["wabas"][W2]["phone_numbers"][0].update(
        business_public_key=pem, business_public_key_signature_status="MISMATCH"
    )
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        response = await http.get(
            f"/v23.0/{UK}/whatsapp_business_encryption", headers={"Authorization": f"Bearer {W2_TOKEN}"}
        )
    assert response.json()["data"][0]["business_public_key_signature_status"] == "MISMATCH"


async def test_invisible_number(life: httpx.AsyncClient, pem: str) -> None:
    response = await life.post(EDGE, headers={"Authorization": f"Bearer {W2_TOKEN}"}, data={"business_public_key": pem})
    assert graph_error(response)["error_subcode"] == 33


async def test_multipart_as_the_oas_describes(life: httpx.AsyncClient, pem: str) -> None:
    response = await life.post(EDGE, headers=LIFE_AUTH, files={"business_public_key": (None, pem)})
    assert response.json() == {"success": True}
    assert (await life.get(EDGE, headers=LIFE_AUTH)).json()["data"][0]["business_public_key"] == pem


async def test_broken_multipart_carries_nothing(life: httpx.AsyncClient) -> None:
    response = await life.post(
        EDGE, headers={**LIFE_AUTH, "Content-Type": "multipart/form-data; boundary=zz"}, content=b"\x00garbage"
    )
    assert graph_error(response)["message"] == "(#100) The parameter business_public_key is required"
