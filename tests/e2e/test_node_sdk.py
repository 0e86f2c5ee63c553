"""Alibaba's official Node SDK (@alicloud/cams20200606) against a running opencams."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..harness import Admin

NODE_DIR = Path(__file__).parents[1] / "node"
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_DIR / "node_modules" / "@alicloud" / "cams20200606").exists(),
    reason="needs node and `npm ci` in tests/node (make test does both)",
)


def node_sync(server: str, key: tuple[str, str], space: str, algorithm: str | None = None) -> dict[str, Any]:
    args = ["node", str(NODE_DIR / "sync.js"), server, key[0], key[1], space, *([algorithm] if algorithm else [])]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("algorithm", [None, "ACS3-HMAC-SM3", "v2"], ids=["v3-sha256", "v3-sm3", "v1-hmac-sha1"])
def test_node_sdk_syncs(server: str, admin: Admin, algorithm: str | None) -> None:
    account = admin.account()
    key = admin.key(account)
    result = node_sync(server, key, admin.space(account), algorithm)
    assert result["statusCode"] == 200
    assert result["body"]["Code"] == "OK"
    assert len(result["body"]["PhoneNumbers"]) == 250
    error = node_sync(server, key, "not-a-space", algorithm)["error"]
    assert error["code"] == "Unknown.ResourceOwnerId"
    assert error["statusCode"] == 400
