"""Prometheus metrics (the official client), multiprocess-safe under `serve --workers N`.

`opencams serve` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before any worker starts,
so every worker writes its counters there and `GET /metrics` on any worker answers the sum.
Labels stay bounded: action names come from the registry, codes from CAMS's fixed set, never an
account, a space or a URL.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

if TYPE_CHECKING:
    from .rpc.gateway import CallRecord

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUESTS = Counter("opencams_requests", "API calls answered, by action and CAMS code.", ["action", "code"])
REQUEST_SECONDS = Histogram(
    "opencams_request_seconds",
    "Seconds to answer an API call, by action.",
    ["action"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SYNCS = Counter("opencams_syncs", "Syncs of a space's numbers, by outcome (OK or the CAMS code).", ["outcome"])
META_CALLS = Counter("opencams_meta_calls", "Calls to Meta's Graph API, by HTTP status (or 'error').", ["status"])
WABA_BLOCKS = Counter("opencams_waba_blocks", "Blocks Meta put on WABAs (usage headers or throttling codes).")


def render() -> bytes:
    """The exposition text: every worker's counters when running multiprocess, else this process's."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


ACCESS = logging.getLogger("opencams.access")


def observe_call(record: CallRecord, seconds: float) -> None:
    """One access line and the call metrics for an answered call (the gateway's observer)."""
    REQUESTS.labels(record.action, record.code).inc()
    REQUEST_SECONDS.labels(record.action).observe(seconds)
    ACCESS.info(
        "%s %s %d %.1f ms",
        record.action,
        record.code,
        record.http_status,
        seconds * 1000,
        extra={
            "action": record.action,
            "account_id": record.account_id,
            "http_status": record.http_status,
            "code": record.code,
            "ms": round(seconds * 1000, 1),
        },
    )
