"""A world for the action tests: a server over the `business.json` Graph data set, an account, its SDK."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException

from ..harness import Admin, Emulator, new_sdk, sdk_call

LUCKY = "300000000000001"
RESTRICTED = "300000000000002"
UNBOUND = "300000000000003"
SHARED = "300000000000004"
APP_ID = "555000000000001"
FIRST = "15550783881"
BLOCKED = "15550783882"


@dataclass
class World:
    server: str
    admin: Admin
    emulator: Emulator
    account: str
    key: tuple[str, str]

    @property
    def sdk(self) -> Any:
        return new_sdk(self.server, self.key)

    def call(self, action: str, **params: Any) -> Any:
        return sdk_call(self.sdk, action, **params)

    def error(self, action: str, **params: Any) -> ClientException:
        with pytest.raises((ClientException, ServerException)) as info:
            self.call(action, **params)
        return info.value  # type: ignore[return-value]

    def bind(self, waba: str = LUCKY) -> str:
        return str(self.call("ChatappBindWaba", waba_id=waba).data.cust_space_id)

    def synced(self, waba: str = LUCKY) -> str:
        space = self.bind(waba)
        self.call("ChatappSyncPhoneNumber", cust_space_id=space)
        return space
