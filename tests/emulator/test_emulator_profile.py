"""Business profiles (reads, Meta's limits, kept writes) and the Resumable Upload API behind the picture."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from .helpers import APP_ID, CONNECTED, LIFE_AUTH, LIFE_TOKEN, OTHER_APP_ID, OTHER_APP_TOKEN, UK, W2_TOKEN, graph_error

pytestmark = pytest.mark.asyncio

PROFILE = f"/v23.0/{CONNECTED}/whatsapp_business_profile"
UPLOADS = f"/v23.0/{APP_ID}/uploads"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"


async def upload(http: httpx.AsyncClient, data: bytes = JPEG, file_type: str = "image/jpeg") -> str:
    """Run both upload steps; return the handle."""
    started = await http.post(
        UPLOADS,
        headers=LIFE_AUTH,
        params={"file_name": "logo.jpg", "file_length": str(len(data)), "file_type": file_type},
    )
    assert started.status_code == 200, started.text
    sent = await http.post(
        f"/v23.0/{started.json()['id']}",
        headers={"Authorization": f"OAuth {LIFE_TOKEN}", "file_offset": "0"},
        content=data,
    )
    assert sent.status_code == 200, sent.text
    handle: str = sent.json()["h"]
    return handle


class TestRead:
    async def test_empty_profile_is_just_the_product(self, life: httpx.AsyncClient) -> None:
        response = await life.get(PROFILE, headers=LIFE_AUTH)
        assert response.status_code == 200
        assert response.json() == {"data": [{"messaging_product": "whatsapp"}]}

    async def test_unknown_field(self, life: httpx.AsyncClient) -> None:
        response = await life.get(PROFILE, headers=LIFE_AUTH, params={"fields": "about,phone"})
        assert response.status_code == 400
        assert graph_error(response)["message"] == (
            "(#100) Tried accessing nonexisting field (phone) on node type (WhatsAppBusinessProfile)"
        )

    async def test_number_the_token_cannot_see(self, life: httpx.AsyncClient) -> None:
        response = await life.get(PROFILE, headers={"Authorization": f"Bearer {W2_TOKEN}"})
        assert (graph_error(response)["code"], graph_error(response)["error_subcode"]) == (100, 33)

    async def test_delete_is_not_served(self, life: httpx.AsyncClient) -> None:
        response = await life.delete(PROFILE, headers=LIFE_AUTH)
        assert graph_error(response)["message"].startswith("Unsupported delete request.")


class TestWrite:
    async def test_json_write_is_kept_and_read_back(self, life: httpx.AsyncClient) -> None:
        profile = {
            "about": "a" * 139,
            "address": "b" * 256,
            "description": "c" * 512,
            "email": "shop@example.com",
            "websites": ["https://example.com", "http://" + "d" * 249],
            "vertical": "ONLINE_GAMBLING",
        }
        response = await life.post(PROFILE, headers=LIFE_AUTH, json={"messaging_product": "whatsapp", **profile})
        assert response.status_code == 200
        assert response.json() == {"success": True}
        read = await life.get(PROFILE, headers=LIFE_AUTH, params={"fields": ",".join(profile)})
        assert read.json() == {"data": [{**profile, "messaging_product": "whatsapp"}]}
        stored = (await life.get("/_emulator/state")).json()["wabas"]
        assert stored["880000000000001"]["phone_numbers"][0]["business_profile"] == profile

    async def test_form_write_as_the_sdk_sends_it_and_partial_updates(self, life: httpx.AsyncClient) -> None:
        await life.post(PROFILE, headers=LIFE_AUTH, data={"messaging_product": "whatsapp", "about": "first"})
        form = {"messaging_product": "whatsapp", "websites": '["https://a.example"]', "vertical": "RETAIL"}
        assert (await life.post(PROFILE, headers=LIFE_AUTH, data=form)).status_code == 200
        read = await life.get(PROFILE, headers=LIFE_AUTH, params={"fields": "about,websites,vertical,email"})
        assert read.json()["data"] == [
            {"about": "first", "websites": ["https://a.example"], "vertical": "RETAIL", "messaging_product": "whatsapp"}
        ]

    async def test_query_parameters_work_too(self, life: httpx.AsyncClient) -> None:
        response = await life.post(PROFILE, headers=LIFE_AUTH, params={"messaging_product": "whatsapp", "address": "x"})
        assert response.json() == {"success": True}

    async def test_writes_to_one_number_leave_others_alone(self, life: httpx.AsyncClient) -> None:
        await life.post(PROFILE, headers=LIFE_AUTH, json={"messaging_product": "whatsapp", "about": "only here"})
        other = await life.get(f"/v23.0/{UK}/whatsapp_business_profile", headers=LIFE_AUTH)
        assert other.json() == {"data": [{"messaging_product": "whatsapp"}]}

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({}, "(#100) The parameter messaging_product is required"),
            ({"messaging_product": "sms"}, '(#100) Param messaging_product must be one of {whatsapp} - got "sms"'),
            ({"about": ""}, "(#100) Param about must be at least 1 characters long"),
            ({"about": "a" * 140}, "(#100) Param about must be at most 139 characters long"),
            ({"address": "a" * 257}, "(#100) Param address must be at most 256 characters long"),
            ({"description": "a" * 513}, "(#100) Param description must be at most 512 characters long"),
            ({"email": "a" * 120 + "@example.com"}, "(#100) Param email must be at most 128 characters long"),
            ({"email": "not-an-address"}, "(#100) Param email must be a valid email address"),
            (
                {"websites": ["https://a.example", "https://b.example", "https://c.example"]},
                "(#100) Param websites must have at most 2 elements",
            ),
            ({"websites": ["https://" + "a" * 250]}, "(#100) Param websites[0] must be at most 256 characters long"),
            (
                {"websites": ["https://ok.example", "ftp://files.example"]},
                "(#100) Param websites[1] must be a URL starting with http:// or https://",
            ),
            ({"websites": "https://a.example"}, "(#100) Param websites must be an array of strings"),
            ({"vertical": "retail"}, '(#100) Param vertical must be one of {OTHER, AUTO, BEAUTY, APPAREL, EDU, ENTERTAIN, EVENT_PLAN, FINANCE, GROCERY, GOVT, HOTEL, HEALTH, NONPROFIT, PROF_SERVICES, RETAIL, TRAVEL, RESTAURANT, ALCOHOL, ONLINE_GAMBLING, PHYSICAL_GAMBLING, OTC_DRUGS} - got "retail"'),
            ({"about": ["x"]}, "(#100) Param about must be a string"),
            (
                {"profile_picture_handle": "4:bogus"},
                "(#100) Param profile_picture_handle is not a handle from the Resumable Upload API",
            ),
        ],
    )  # fmt: skip
    async def test_meta_limits(self, life: httpx.AsyncClient, body: dict[str, Any], message: str) -> None:
        payload = body if not body or "messaging_product" in body else {"messaging_product": "whatsapp", **body}
        response = await life.post(PROFILE, headers=LIFE_AUTH, json=payload)
        assert response.status_code == 400
        error = graph_error(response)
        assert (error["code"], error["type"], error["message"]) == (100, "OAuthException", message)
        read = await life.get(PROFILE, headers=LIFE_AUTH)
        assert read.json() == {"data": [{"messaging_product": "whatsapp"}]}


class TestPicture:
    async def test_handle_sets_a_whatsapp_cdn_url(self, life: httpx.AsyncClient) -> None:
        handle = await upload(life)
        response = await life.post(
            PROFILE, headers=LIFE_AUTH, json={"messaging_product": "whatsapp", "profile_picture_handle": handle}
        )
        assert response.json() == {"success": True}
        url = (await life.get(PROFILE, headers=LIFE_AUTH, params={"fields": "profile_picture_url"})).json()["data"][0][
            "profile_picture_url"
        ]
        assert url.startswith("https://pps.whatsapp.net/v/")
        # the same bytes give the same URL
        again = await upload(life)
        await life.post(
            PROFILE, headers=LIFE_AUTH, json={"messaging_product": "whatsapp", "profile_picture_handle": again}
        )
        assert (await life.get(PROFILE, headers=LIFE_AUTH)).json()["data"][0]["profile_picture_url"] == url

    async def test_a_pdf_handle_is_not_a_picture(self, life: httpx.AsyncClient) -> None:
        handle = await upload(life, b"%PDF-1.4 hello", "application/pdf")
        response = await life.post(
            PROFILE, headers=LIFE_AUTH, json={"messaging_product": "whatsapp", "profile_picture_handle": handle}
        )
        assert graph_error(response)["message"] == "(#100) The profile picture must be a JPEG or PNG image"


class TestUploads:
    async def test_two_steps_and_the_control_listing(self, life: httpx.AsyncClient) -> None:
        started = await life.post(
            UPLOADS, headers=LIFE_AUTH, params={"file_name": "logo.png", "file_length": "5", "file_type": "image/png"}
        )
        session = started.json()["id"]
        assert session.startswith("upload:") and "?sig=" in session
        assert (await life.get(f"/v23.0/{session}", headers=LIFE_AUTH)).json() == {"id": session, "file_offset": 0}
        listed = (await life.get("/_emulator/uploads")).json()["uploads"]
        assert listed[0]["complete"] is False and listed[0]["sha256"] is None
        sent = await life.post(
            f"/v23.0/{session}", headers={"Authorization": f"OAuth {LIFE_TOKEN}", "file_offset": "0"}, content=b"hello"
        )
        handle = sent.json()["h"]
        assert handle.startswith("4:")
        (entry,) = (await life.get("/_emulator/uploads")).json()["uploads"]
        assert entry == {
            "id": session,
            "app_id": APP_ID,
            "file_name": "logo.png",
            "file_type": "image/png",
            "file_length": 5,
            "received": 5,
            "complete": True,
            "sha256": hashlib.sha256(b"hello").hexdigest(),
            "handle": handle,
            "created_at": entry["created_at"],
        }
        # resuming a complete upload with nothing left to send gives the handle again
        resumed = await life.post(f"/v23.0/{session}", headers={**LIFE_AUTH, "file_offset": "5"})
        assert resumed.json() == {"h": handle}
        assert (await life.get(f"/v23.0/{session}", headers=LIFE_AUTH)).json()["file_offset"] == 5

    async def test_url_encoded_sig_and_bearer_work(self, life: httpx.AsyncClient) -> None:
        started = await life.post(
            UPLOADS, headers=LIFE_AUTH, data={"file_name": "a.jpg", "file_length": "3", "file_type": "image/jpeg"}
        )
        session = started.json()["id"].replace("?", "%3F").replace("=", "%3D")
        sent = await life.post(f"/v23.0/{session}", headers={**LIFE_AUTH, "file_offset": "0"}, content=b"abc")
        assert "h" in sent.json()

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"file_type": "image/jpeg"}, "(#100) The parameter file_length is required"),
            ({"file_length": "10"}, "(#100) The parameter file_type is required"),
            ({"file_length": "0", "file_type": "image/jpeg"}, "(#100) Param file_length must be a positive integer"),
            ({"file_length": "ten", "file_type": "image/jpeg"}, "(#100) Param file_length must be a positive integer"),
            (
                {"file_length": "10", "file_type": "image/gif"},
                '(#100) Param file_type must be one of {application/pdf, image/jpeg, image/jpg, image/png, video/mp4} - got "image/gif"',
            ),
        ],
    )
    async def test_session_errors(self, life: httpx.AsyncClient, query: dict[str, str], message: str) -> None:
        response = await life.post(UPLOADS, headers=LIFE_AUTH, params=query)
        assert response.status_code == 400
        assert graph_error(response)["message"] == message

    async def test_another_apps_token_cannot_open_a_session(self, life: httpx.AsyncClient) -> None:
        response = await life.post(
            UPLOADS,
            headers={"Authorization": f"Bearer {OTHER_APP_TOKEN}"},
            params={"file_length": "3", "file_type": "image/jpeg"},
        )
        assert response.status_code == 403
        assert graph_error(response)["code"] == 200
        ok = await life.post(
            f"/v23.0/{OTHER_APP_ID}/uploads",
            headers={"Authorization": f"Bearer {OTHER_APP_TOKEN}"},
            params={"file_length": "3", "file_type": "image/jpeg"},
        )
        assert ok.status_code == 200

    async def test_byte_errors(self, life: httpx.AsyncClient) -> None:
        started = await life.post(UPLOADS, headers=LIFE_AUTH, params={"file_length": "4", "file_type": "image/jpeg"})
        session = started.json()["id"]
        short = await life.post(f"/v23.0/{session}", headers={**LIFE_AUTH, "file_offset": "0"}, content=b"abc")
        assert graph_error(short)["message"] == (
            "(#100) Upload size mismatch: got 3 bytes, expected 4 (file_length 4, file_offset 0)"
        )
        long = await life.post(f"/v23.0/{session}", headers={**LIFE_AUTH, "file_offset": "0"}, content=b"abcde")
        assert graph_error(long)["code"] == 100
        offset = await life.post(f"/v23.0/{session}", headers={**LIFE_AUTH, "file_offset": "2"}, content=b"cd")
        assert graph_error(offset)["message"] == "(#100) Invalid file_offset 2: the session has 0 bytes"
        missing = await life.post(f"/v23.0/{session}", headers=LIFE_AUTH, content=b"abcd")
        assert graph_error(missing)["message"] == "(#100) The file_offset header is required"
        other = await life.post(
            f"/v23.0/{session}",
            headers={"Authorization": f"Bearer {OTHER_APP_TOKEN}", "file_offset": "0"},
            content=b"abcd",
        )
        assert graph_error(other)["error_subcode"] == 33
        assert (await life.get("/_emulator/uploads")).json()["uploads"][0]["received"] == 0
        ok = await life.post(f"/v23.0/{session}", headers={**LIFE_AUTH, "file_offset": "0"}, content=b"abcd")
        assert "h" in ok.json()

    async def test_unknown_session_is_100_33(self, life: httpx.AsyncClient) -> None:
        response = await life.post("/v23.0/upload:bm9wZQ", headers={**LIFE_AUTH, "file_offset": "0"}, content=b"x")
        assert response.status_code == 400
        error = graph_error(response)
        assert (error["code"], error["error_subcode"]) == (100, 33)
        assert "'upload:bm9wZQ'" in error["message"]

    async def test_upload_needs_a_token(self, life: httpx.AsyncClient) -> None:
        response = await life.post(UPLOADS, params={"file_length": "3", "file_type": "image/jpeg"})
        assert graph_error(response)["code"] == 104
