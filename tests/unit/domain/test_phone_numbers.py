"""Meta's node to a CAMS phone number (the mapping of the contract)."""

from __future__ import annotations

import pytest

from opencams.domain.phone_numbers import InvalidNode, MetaNumber, Queues, StoredNumber, to_cams

QUEUES = Queues.for_account("1111222233334444")


def number(**fields: object) -> StoredNumber:
    return StoredNumber(MetaNumber.from_node({"id": "106540352242922", **fields}), None, None)


def test_every_field_is_mapped() -> None:
    stored = StoredNumber(
        MetaNumber.from_node(
            {
                "id": "1",
                "display_phone_number": "+86 138-0000-1234",
                "verified_name": "Alibaba",
                "status": "CONNECTED",
                "quality_rating": "NA",
                "code_verification_status": "VERIFIED",
                "name_status": "APPROVED",
                "new_name_status": "PENDING_REVIEW",
                "messaging_limit_tier": "TIER_10K",
                "is_official_business_account": True,
            }
        ),
        "https://s.example/status",
        "https://s.example/up",
    )
    assert to_cams(stored, QUEUES, account_queues=True) == {
        "PhoneNumber": "8613800001234",
        "VerifiedName": "Alibaba",
        "Status": "CONNECTED",
        "QualityRating": "UNKNOWN",
        "CodeVerificationStatus": "VERIFIED",
        "NameStatus": "Approval",
        "NewNameStatus": "Pending_Review",
        "MessagingLimitTier": "TIER_10K",
        "IsOfficial": "true",
        "StatusQueue": "Alicom-Queue-1111222233334444-ChatAppStatus",
        "UpQueue": "Alicom-Queue-1111222233334444-ChatAppInbound",
        "StatusCallbackUrl": "https://s.example/status",
        "UpCallbackUrl": "https://s.example/up",
    }


def test_absent_values_are_left_out_and_unknown_enums_pass() -> None:
    assert to_cams(number(status="SOMETHING_NEW", name_status="DECLINED"), QUEUES, account_queues=False) == {
        "Status": "SOMETHING_NEW",
        "NameStatus": "Rejected",
    }


def test_the_portfolio_limit_stands_in_for_the_tier() -> None:
    mapped = to_cams(number(whatsapp_business_manager_messaging_limit="TIER_2K"), QUEUES, account_queues=False)
    assert mapped["MessagingLimitTier"] == "TIER_2K"


@pytest.mark.parametrize(
    ("own", "account", "shown"), [(None, True, True), (None, False, False), (True, False, True), (False, True, False)]
)
def test_a_numbers_queue_flag_overrides_the_account(own: bool | None, account: bool, shown: bool) -> None:
    stored = StoredNumber(number().meta, None, None, own)
    assert ("StatusQueue" in to_cams(stored, QUEUES, account_queues=account)) is shown


@pytest.mark.parametrize(
    "node",
    [
        {},
        {"id": ""},
        {"id": 5},
        {"id": "12a"},
        {"id": "1", "status": 3},
        {"id": "1", "verified_name": "a\x00b"},
        {"id": "1", "status": "X" * 33},
        {"id": "1", "is_official_business_account": "yes"},
        "not an object",
    ],
)
def test_unusable_nodes_are_refused(node: object) -> None:
    with pytest.raises(InvalidNode):
        MetaNumber.from_node(node)  # type: ignore[arg-type]
