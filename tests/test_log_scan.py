"""The session's log scan finds a secret when one is logged (so its silence means something)."""

from __future__ import annotations

import logging

import pytest

from .harness import find_leaks


def test_scan_finds_a_logged_secret(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("opencams.test").info("token is %s", "s3cr3t-value")
    assert find_leaks(caplog.messages, {"s3cr3t-value"}) == [("s3cr...", "token is s3cr3t-value")]
    assert find_leaks(caplog.messages, {"other"}) == []
