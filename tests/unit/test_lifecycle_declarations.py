"""The declarations of a number's life match Alibaba's metadata: RAM level, rate, Success, parameters."""

from __future__ import annotations

import pytest

from opencams.actions import declared_actions

ACTIONS = {d.name: d for d, _ in declared_actions()}


@pytest.mark.parametrize(
    ("action", "access", "rate", "success", "params"),
    [
        ("AddChatappPhoneNumber", "update", "10/s", True, "CustSpaceId* Cc* PhoneNumber* PreValidateId VerifiedName*"),
        ("GetChatappVerifyCode", "get", "10/s", True, "CustSpaceId* PhoneNumber* Method* Locale*"),
        ("ChatappVerifyAndRegister", "update", "10/s", True, "CustSpaceId* PhoneNumber* VerifyCode*"),
        ("ChatappPhoneNumberRegister", "update", "10/s", True, "CustSpaceId* PhoneNumber*"),
        ("ChatappPhoneNumberDeregister", "update", "10/s", False, "CustSpaceId* PhoneNumber*"),
        ("GetPhoneEncryptionPublicKey", "get", "5/s", False, "CustSpaceId PhoneNumber*"),
        ("UpdatePhoneEncryptionPublicKey", "update", "5/s", False, "CustSpaceId PhoneNumber* EncryptionPublicKey*"),
        (
            "GetChatappPhoneNumberMetric",
            "get",
            "50/s",
            False,
            "IsvCode CustSpaceId Granularity Start* End* PhoneNumber",
        ),
        ("GetPreValidatePhoneId", "get", "10/s", False, "PhoneNumber* VerifyCode*"),
    ],
)
def test_declaration(action: str, access: str, rate: str, success: bool, params: str) -> None:
    declared = ACTIONS[action]
    assert (declared.access, declared.rate, declared.success) == (access, rate, success)
    assert " ".join(p.name + ("*" if p.required else "") for p in declared.params) == params


def test_the_pem_key_may_span_lines_and_nothing_else_may() -> None:
    multiline = {(a, p.name) for a, d in ACTIONS.items() for p in d.params if p.multiline}
    assert ("UpdatePhoneEncryptionPublicKey", "EncryptionPublicKey") in multiline
    key = next(p for p in ACTIONS["UpdatePhoneEncryptionPublicKey"].params if p.name == "EncryptionPublicKey")
    assert key.coerce("-----BEGIN PUBLIC KEY-----\r\nAAAA\n-----END PUBLIC KEY-----\n").count("\n") == 3
