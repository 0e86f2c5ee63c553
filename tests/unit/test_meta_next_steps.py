"""Meta's refusals in a number's life: ERR-FB-001 naming Meta's code and the next step; the rest as before."""

from __future__ import annotations

import pytest

from opencams.actions.failures import META_NEXT_STEPS, to_api_error
from opencams.graph.errors import GraphApiError


def meta(code: int, subcode: int | None = None, *, trace: str = "Atrace", message: str = "boom") -> GraphApiError:
    return GraphApiError(
        http_status=400,
        code=code,
        subcode=subcode,
        type="OAuthException",
        message=message,
        fbtrace_id=trace,
        is_transient=False,
    )


@pytest.mark.parametrize(
    ("code", "subcode", "named", "next_step"),
    [
        (200000, None, "code 200000", "then retry AddChatappPhoneNumber"),
        (136024, None, "code 136024", "wait an hour, then call GetChatappVerifyCode again"),
        (136025, None, "code 136025", "request a new one with GetChatappVerifyCode, then retry"),
        (136025, 7, "code 136025, subcode 7", "wrong or has expired"),
        (133005, None, "code 133005", "turn off two-step verification for the number in WhatsApp Manager"),
        (133006, None, "code 133006", "request a code with GetChatappVerifyCode"),
        (133010, None, "code 133010", "register it with ChatappPhoneNumberRegister"),
        (133016, None, "code 133016", "Meta allows 10 attempts in 72 hours"),
        (100, 2207051, "code 100, subcode 2207051", "nothing to deregister"),
    ],
)
def test_each_step_refusal_names_metas_code_and_the_next_step(
    code: int, subcode: int | None, named: str, next_step: str
) -> None:
    error = to_api_error(meta(code, subcode))
    assert (error.http_status, error.code) == (400, "ERR-FB-001")
    assert error.message.startswith(f"Meta refused the request ({named}): ")
    assert next_step in error.message and error.message.endswith(". fbtrace_id=Atrace")
    assert "boom" not in error.message  # Meta's own words are replaced, not repeated


def test_every_entry_of_the_table_is_reachable() -> None:
    for code, subcode in META_NEXT_STEPS:
        assert to_api_error(meta(code, subcode)).message.startswith("Meta refused the request (code ")


def test_other_refusals_keep_metas_words() -> None:
    assert "code=100, subcode=33, message=boom" in to_api_error(meta(100, 33)).message
    assert "code=100, subcode=None" in to_api_error(meta(100)).message


def test_a_token_in_the_trace_id_is_masked() -> None:
    error = to_api_error(meta(136025, trace="x-Secret-Tok"), secrets=("secret-tok",))
    assert "Secret" not in error.message and error.message.endswith("fbtrace_id=x-***")
