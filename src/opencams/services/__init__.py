"""Use cases: what a call does, in the domain's words; storage and Meta reach them through ports."""

from __future__ import annotations

from dataclasses import dataclass

from .lifecycle import LifecycleService
from .meta import MetaService
from .metrics import MetricsService
from .profile import ProfileService
from .spaces import SpaceService
from .sync import SyncService
from .waba import WabaService


@dataclass(frozen=True)
class Services:
    """Every use case of one process, as the actions see them."""

    spaces: SpaceService
    meta: MetaService
    sync: SyncService
    waba: WabaService
    profile: ProfileService
    lifecycle: LifecycleService
    metrics: MetricsService
