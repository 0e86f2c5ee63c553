"""Parsing a raw request: the values used are the values signed, and hostile input is refused early."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from opencams.errors import ApiError, RequestBodyTooLarge
from opencams.rpc.request import MAX_BODY, parse_credentials, parse_request

V3 = [
    ("authorization", "ACS3-HMAC-SHA256 Credential=LTAI1,SignedHeaders=host,Signature=00"),
    ("x-acs-action", "ChatappSyncPhoneNumber"),
    ("x-acs-version", "2020-06-06"),
    ("x-acs-date", "2026-11-26T20:14:38Z"),
    ("x-acs-signature-nonce", "abc"),
]


def parse(query: str = "", headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> object:
    return parse_request("POST", "/", query.encode(), headers if headers is not None else V3, body)


class TestCanonicalValues:
    @pytest.mark.parametrize("edit", [" abc", "abc ", "\tabc", "abc\t", "  abc  "])
    def test_a_nonce_is_read_as_signed_whatever_surrounds_it(self, edit: str) -> None:
        headers = [(k, edit if k == "x-acs-signature-nonce" else v) for k, v in V3]
        req = parse(headers=headers)
        assert parse_credentials(req).nonce == "abc"  # type: ignore[arg-type]

    def test_a_header_sent_twice_is_read_joined_as_signed(self) -> None:
        req = parse(headers=[*V3, ("X-Acs-Signature-Nonce", "zzz")])
        assert parse_credentials(req).nonce == "abc,zzz"  # type: ignore[arg-type]

    def test_the_action_comes_from_the_signed_header_trimmed(self) -> None:
        headers = [(k, " ChatappSyncPhoneNumber " if k == "x-acs-action" else v) for k, v in V3]
        assert parse(headers=headers).action == "ChatappSyncPhoneNumber"  # type: ignore[attr-defined]

    def test_v1_takes_action_and_version_from_parameters_over_headers(self) -> None:
        req = parse(
            "Action=QueryChatappPhoneNumbers&Version=2020-06-06&AccessKeyId=a&Signature=s",
            [("x-acs-action", "ChatappSyncPhoneNumber")],
        )
        assert req.action == "QueryChatappPhoneNumbers"  # type: ignore[attr-defined]


class TestRefusals:
    @pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\r", "\n", "\t"])
    def test_control_characters_in_common_parameters(self, char: str) -> None:
        with pytest.raises(ApiError) as info:
            parse(f"Action=A&Version=V&AccessKeyId=LTAI{quote(char)}&Signature=s")
        assert info.value.code == "InvalidParameter"
        assert "AccessKeyId" in info.value.message

    def test_line_breaks_pass_the_wire_for_action_parameters_but_nul_does_not(self) -> None:
        req = parse("Action=A&Version=V&EncryptionPublicKey=a%0Ab")
        assert req.params["EncryptionPublicKey"] == "a\nb"  # type: ignore[attr-defined]
        with pytest.raises(ApiError) as info:
            parse("Action=A&Version=V&CustSpaceId=a%00b")
        assert info.value.code == "InvalidParameter"

    def test_a_control_character_in_a_parameter_name(self) -> None:
        with pytest.raises(ApiError) as info:
            parse("Action=A&Version=V&Cust%00Space=1")
        assert info.value.code == "InvalidParameter"

    @pytest.mark.parametrize("char", ["\x00", "\x7f", "\xa0", "\xff"])
    def test_used_headers_must_be_printable_ascii(self, char: str) -> None:
        headers = [(k, v + char if k == "x-acs-signature-nonce" else v) for k, v in V3]
        with pytest.raises(ApiError) as info:
            parse(headers=headers)
        assert info.value.code == "InvalidParameter"
        assert "x-acs-signature-nonce" in info.value.message

    def test_unused_headers_may_hold_anything(self) -> None:
        assert parse(headers=[*V3, ("user-agent", "caf\xc3\xa9 \x80")]).action == "ChatappSyncPhoneNumber"  # type: ignore[attr-defined]

    def test_repeated_parameters_are_noted_for_after_the_signature(self) -> None:
        req = parse("Action=A&Version=V&CustSpaceId=1&CustSpaceId=2&SignatureNonce=n")
        assert req.repeated == ("CustSpaceId",)  # type: ignore[attr-defined]
        assert req.params["CustSpaceId"] == "1"  # type: ignore[attr-defined]

    def test_a_body_over_the_limit(self) -> None:
        with pytest.raises(RequestBodyTooLarge) as info:
            parse(headers=V3, body=b"x" * (MAX_BODY + 1))
        assert info.value.http_status == 413
