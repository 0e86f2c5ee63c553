"""What operators and load balancers ask a process: alive (`/healthz`), ready (`/readyz`), metrics (`/metrics`)."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import metrics
from .db.migrate import current_revision, head_revision

log = logging.getLogger("opencams.probes")
PROBE_TIMEOUT = 2.0


def routes(engine: AsyncEngine, redis_url: str | None) -> list[Route]:
    """The probe routes for a process serving with `engine` (and Redis when configured)."""
    head = head_revision()

    async def readyz(_: Request) -> Response:
        problems: list[str] = []
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            revision = await current_revision(engine)
            if revision != head:
                problems.append(
                    f"database schema is at {revision}, this version needs {head}: run opencams admin db upgrade"
                )
        except Exception as exc:  # any failure to reach the database is the answer, not an error
            problems.append(f"database unreachable ({type(exc).__name__})")
        if redis_url:
            client = Redis.from_url(redis_url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT)
            try:
                await client.ping()
            except Exception as exc:
                problems.append(f"Redis unreachable ({type(exc).__name__})")
            finally:
                await client.aclose()
        if problems:
            log.warning("not ready: %s", "; ".join(problems))
            return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics_page(_: Request) -> Response:
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)

    return [Route("/readyz", readyz, methods=["GET"]), Route("/metrics", metrics_page, methods=["GET"])]
