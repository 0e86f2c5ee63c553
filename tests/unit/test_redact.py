"""Secrets masked in any letter case, and Meta tokens masked even when they are not ours."""

from __future__ import annotations

from opencams.redact import MASK, clean, redact


def test_every_secret_in_any_case() -> None:
    text = "token sEcReT-one and SECRET-TWO and secret-one again"
    assert redact(text, ["secret-one", "secret-two", None, ""]) == f"token {MASK} and {MASK} and {MASK} again"


def test_meta_tokens_are_masked_without_being_named() -> None:
    token = "EAAG" + "x1Y2z3" * 10
    assert token not in redact(f"Invalid OAuth access token {token}.", [])


def test_clean_removes_controls_and_bounds_length() -> None:
    assert clean("a\x00b\x1b[31mc\ud800") == "a\ufffdb\ufffd[31mc\ufffd"
    assert len(clean("x" * 5000, limit=100)) == 100
