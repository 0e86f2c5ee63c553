"""The `health_status` field of number and WABA nodes, derived from the health overrides in the state.

Meta's rules (lifecycle.md §C): the overall `can_send_message` is the worst entity's; a
PHONE_NUMBER entity appears only when a number is addressed; WABA, BUSINESS and APP always
do. Entities without an override are AVAILABLE. The emulator can list a BUSINESS entity only
when the WABA names its business (`business_id`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .state import HEALTH_LEVELS, GraphState, Waba


def health_status(
    state: GraphState, waba: Waba, app_id: str, number: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return the `health_status` object for a WABA node, or for one of its numbers."""
    entities: list[dict[str, Any]] = []
    if number is not None:
        entities.append(_entity("PHONE_NUMBER", number["id"], number.get("health")))
    entities.append(_entity("WABA", waba.id, waba.private("health")))
    if waba.business_id is not None:
        business = state.businesses[waba.business_id]
        entities.append(_entity("BUSINESS", business.id, business.health))
    app = state.apps.get(app_id)
    entities.append(_entity("APP", app_id, app.health if app is not None else None))
    worst = max(HEALTH_LEVELS.index(e["can_send_message"]) for e in entities)
    return {"can_send_message": HEALTH_LEVELS[worst], "entities": entities}


def _entity(entity_type: str, entity_id: str, override: Mapping[str, Any] | None) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "entity_type": entity_type,
        "id": entity_id,
        "can_send_message": (override or {}).get("can_send_message", "AVAILABLE"),
    }
    for key in ("additional_info", "errors"):
        if override and override.get(key):
            entity[key] = [dict(item) if isinstance(item, Mapping) else item for item in override[key]]
    return entity
