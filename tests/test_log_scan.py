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


def test_a_numeric_secret_counts_only_as_a_whole_number() -> None:
    lines = ["denied acs:ram::8682554788594931:user/reader", 'register {"pin":"682554"}', "code=682554&x=1"]
    assert [line for _, line in find_leaks(lines, {"682554"})] == lines[1:]
