"""Async Graph client: every call opencams makes to Meta, with bounded answers and retries (stamina).

Reads are retried on Meta's transient failures within a deadline; writes only when the request
surely never reached Meta (the connection failed), since a write retried after a lost answer
could happen twice. Pages are fetched with our own base URL and the `after` cursor rather than
by following `paging.next`, so a token is only ever sent to the configured Graph host.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import stamina

from ..metrics import META_CALLS
from .errors import (
    GraphApiError,
    GraphConnectError,
    GraphContentError,
    GraphError,
    GraphProtocolError,
    GraphTransportError,
)
from .usage import regain_access_seconds

log = logging.getLogger("opencams.graph")
PAGE_LIMIT = 100
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class AnswerLimits:
    """Bounds on what opencams accepts from Meta: one answer's size and nesting, numbers per WABA.

    Meta's real answers are far inside them (a page of 100 numbers is about 100 KB, 4 levels deep);
    an answer beyond them is refused whole rather than parsed, stored or retried.
    """

    max_bytes: int = 4 << 20
    max_depth: int = 32
    max_numbers: int = 10_000


def _depth_within(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests at most `limit` containers deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


@dataclass
class FetchReport:
    """What a fetch cost: attempts made (retries included), and any block Meta announced."""

    attempts: int = 0
    blocked_for: float = 0.0
    calls: list[int] = field(default_factory=list)


def _should_retry(exc: Exception) -> bool:
    return isinstance(exc, GraphError) and exc.retryable


def _never_delivered(exc: Exception) -> bool:
    return isinstance(exc, GraphConnectError)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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
        limits: AnswerLimits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.limits = limits or AnswerLimits()
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

    def _url(self, path: str) -> str:
        # Node ids come from Meta or are checked to be digits; upload session ids hold '?' and '='.
        return f"{self.base_url}/{self.version}/{quote(path, safe='/:')}"

    async def get(
        self, path: str, token: str, params: Mapping[str, str] | None = None, report: FetchReport | None = None
    ) -> dict[str, Any]:
        """GET `/{version}/{path}`: Meta's JSON object; retried on transient failures within the deadline."""
        request = self._http.build_request("GET", self._url(path), params=params, headers=_auth(token))
        return await self._call(request, token, report, idempotent=True)

    async def post(
        self,
        path: str,
        token: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        report: FetchReport | None = None,
    ) -> dict[str, Any]:
        """POST to `/{version}/{path}` (form, JSON or raw bytes); retried only if never delivered."""
        request = self._http.build_request(
            "POST",
            self._url(path),
            params=params,
            data=data,
            json=json_body,
            content=content,
            headers={**_auth(token), **(headers or {})},
        )
        return await self._call(request, token, report, idempotent=False)

    async def delete(self, path: str, token: str, report: FetchReport | None = None) -> dict[str, Any]:
        """DELETE `/{version}/{path}` (idempotent at Meta: retried like a read)."""
        request = self._http.build_request("DELETE", self._url(path), headers=_auth(token))
        return await self._call(request, token, report, idempotent=True)

    async def _call(
        self, request: httpx.Request, token: str, report: FetchReport | None, *, idempotent: bool
    ) -> dict[str, Any]:
        report = report if report is not None else FetchReport()
        retry_on = _should_retry if idempotent else _never_delivered
        previous: GraphError | None = None
        try:
            async with asyncio.timeout(self.deadline):
                async for attempt in stamina.retry_context(
                    on=retry_on,
                    attempts=MAX_ATTEMPTS,
                    timeout=self.deadline,
                    wait_initial=self.retry_wait_initial,
                    wait_max=self.retry_wait_max,
                    wait_jitter=self.retry_wait_initial,
                ):
                    if previous is not None:
                        log.warning(
                            "retrying Meta call %s %s (attempt %d of %d) after %s: %s",
                            request.method,
                            request.url.path,
                            attempt.num,
                            MAX_ATTEMPTS,
                            type(previous).__name__,
                            previous,
                        )
                    with attempt:
                        report.attempts += 1
                        try:
                            return await self._send(request, token, report)
                        except GraphError as exc:
                            previous = exc
                            raise
        except TimeoutError:
            raise GraphTransportError(f"Meta did not answer within the {self.deadline:g} s deadline") from None
        raise AssertionError("unreachable: stamina re-raises the last error")

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
        max_numbers = self.limits.max_numbers
        while True:
            page = await self.get(f"{waba_id}/phone_numbers", token, params, report)
            data = page.get("data")
            if not isinstance(data, list):
                raise GraphProtocolError("the phone_numbers answer has no data list")
            if len(data) > PAGE_LIMIT:
                raise GraphContentError(f"Meta sent {len(data)} numbers in a page of at most {PAGE_LIMIT}")
            numbers.extend(data)
            if len(numbers) > max_numbers:
                raise GraphContentError(f"the WABA has more than {max_numbers} phone numbers")
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

    async def _send(self, request: httpx.Request, token: str, report: FetchReport) -> dict[str, Any]:
        try:
            status, headers, raw = await self._exchange(request)
        except GraphError:
            META_CALLS.labels("error").inc()
            raise
        META_CALLS.labels(str(status)).inc()
        report.calls.append(status)
        report.blocked_for = max(report.blocked_for, regain_access_seconds(headers))
        return self._parse(status, raw, token)

    async def _exchange(self, request: httpx.Request) -> tuple[int, httpx.Headers, bytes]:
        """Send one request; the answer's body is read only up to the size limit."""
        limit = self.limits.max_bytes
        try:
            response = await self._http.send(request, stream=True)
            try:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise GraphContentError(f"Meta's answer is larger than {limit} bytes")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise GraphContentError(f"Meta's answer is larger than {limit} bytes")
            finally:
                await response.aclose()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise GraphConnectError(f"Meta could not be reached ({type(exc).__name__})") from None
        except httpx.TimeoutException:
            raise GraphTransportError("Meta did not answer in time") from None
        except httpx.HTTPError as exc:
            # The exception text may hold the URL; keep only the kind of failure.
            raise GraphTransportError(f"Meta could not be reached ({type(exc).__name__})") from None
        return response.status_code, response.headers, bytes(body)

    def _parse(self, status: int, raw: bytes, token: str) -> dict[str, Any]:
        """Meta's JSON object, or the GraphError its answer stands for."""
        try:
            body = json.loads(raw)
        except RecursionError:
            raise GraphContentError(f"Meta's answer nests deeper than {self.limits.max_depth} levels") from None
        except ValueError:
            raise GraphProtocolError(f"Meta answered HTTP {status} with a body that is not JSON") from None
        if not _depth_within(body, self.limits.max_depth):
            raise GraphContentError(f"Meta's answer nests deeper than {self.limits.max_depth} levels")
        if not isinstance(body, dict):
            raise GraphProtocolError("Meta answered JSON that is not an object")
        error = body.get("error")
        if error is not None:
            if not isinstance(error, dict):
                raise GraphProtocolError("Meta's error envelope is not an object")
            # Meta may echo the token it was sent; it is masked before the error goes anywhere.
            raise GraphApiError.from_envelope(status, error, secrets=(token,))
        if status >= 400:
            raise GraphProtocolError(f"Meta answered HTTP {status} without an error envelope")
        return body
