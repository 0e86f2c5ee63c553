"""Async Graph client: all pages of a WABA's phone numbers, with bounded retries (stamina).

Pages are fetched with our own base URL and the `after` cursor rather than by following
`paging.next`, so a token is only ever sent to the configured Graph host.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import stamina

from .errors import GraphApiError, GraphError, GraphProtocolError, GraphTransportError
from .usage import regain_access_seconds

log = logging.getLogger("opencams.graph")
PAGE_LIMIT = 100
MAX_PAGES = 1000


@dataclass
class FetchReport:
    """What a fetch cost: attempts made (retries included), and any block Meta announced."""

    attempts: int = 0
    blocked_for: float = 0.0
    calls: list[int] = field(default_factory=list)


def _should_retry(exc: Exception) -> bool:
    return isinstance(exc, GraphError) and exc.retryable


class GraphClient:
    """Reads `/{version}/{waba}/phone_numbers`; one instance shares a connection pool."""

    def __init__(
        self,
        base_url: str,
        version: str,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        deadline: float = 10.0,
        retry_wait_initial: float = 0.2,
        retry_wait_max: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.deadline = deadline
        self.retry_wait_initial = retry_wait_initial
        self.retry_wait_max = retry_wait_max
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
            headers={"User-Agent": "opencams"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def list_phone_numbers(
        self, waba_id: str, token: str, fields: Sequence[str], report: FetchReport | None = None
    ) -> list[dict[str, Any]]:
        """Every phone-number node of the WABA in Meta's order; GraphError after the retry budget."""
        report = report if report is not None else FetchReport()
        try:
            async with asyncio.timeout(self.deadline):
                return await self._all_pages(waba_id, token, fields, report)
        except TimeoutError:
            raise GraphTransportError(f"Meta did not answer within the {self.deadline:g} s deadline") from None

    async def _all_pages(
        self, waba_id: str, token: str, fields: Sequence[str], report: FetchReport
    ) -> list[dict[str, Any]]:
        params: dict[str, str] = {"fields": ",".join(fields), "limit": str(PAGE_LIMIT)}
        numbers: list[dict[str, Any]] = []
        seen_cursors: set[str] = set()
        for _ in range(MAX_PAGES):
            page = await self._get_with_retries(f"/{self.version}/{waba_id}/phone_numbers", token, params, report)
            data = page.get("data")
            if not isinstance(data, list):
                raise GraphProtocolError("the phone_numbers answer has no data list")
            numbers.extend(data)
            paging = page.get("paging")
            paging = paging if isinstance(paging, dict) else {}
            cursors = paging.get("cursors")
            after = cursors.get("after") if isinstance(cursors, dict) else None
            # Like Meta's own SDK: another page exists only when both `next` and `after` are there.
            if not paging.get("next") or not isinstance(after, str) or not after:
                return numbers
            if after in seen_cursors:
                raise GraphProtocolError("Meta repeated a paging cursor")
            seen_cursors.add(after)
            params = {**params, "after": after}
        raise GraphProtocolError(f"more than {MAX_PAGES} pages of phone numbers")

    async def _get_with_retries(
        self, path: str, token: str, params: dict[str, str], report: FetchReport
    ) -> dict[str, Any]:
        async for attempt in stamina.retry_context(
            on=_should_retry,
            attempts=5,
            timeout=self.deadline,
            wait_initial=self.retry_wait_initial,
            wait_max=self.retry_wait_max,
            wait_jitter=self.retry_wait_initial,
        ):
            with attempt:
                report.attempts += 1
                return await self._get(path, token, params, report)
        raise AssertionError("unreachable: stamina re-raises the last error")

    async def _get(self, path: str, token: str, params: dict[str, str], report: FetchReport) -> dict[str, Any]:
        try:
            response = await self._http.get(
                self.base_url + path, params=params, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.TimeoutException:
            raise GraphTransportError("Meta did not answer in time") from None
        except httpx.HTTPError as exc:
            # The exception text may hold the URL; keep only the kind of failure.
            raise GraphTransportError(f"Meta could not be reached ({type(exc).__name__})") from None
        report.calls.append(response.status_code)
        report.blocked_for = max(report.blocked_for, regain_access_seconds(response.headers))
        try:
            body = response.json()
        except ValueError:
            raise GraphProtocolError(
                f"Meta answered HTTP {response.status_code} with a body that is not JSON"
            ) from None
        if not isinstance(body, dict):
            raise GraphProtocolError("Meta answered JSON that is not an object")
        error = body.get("error")
        if error is not None:
            if not isinstance(error, dict):
                raise GraphProtocolError("Meta's error envelope is not an object")
            raise GraphApiError.from_envelope(response.status_code, error)
        if response.status_code >= 400:
            raise GraphProtocolError(f"Meta answered HTTP {response.status_code} without an error envelope")
        return body
