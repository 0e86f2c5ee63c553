"""How the emulator writes JSON: the way Graph and Meta's webhooks do (compact, ASCII, `\\/`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def render_json(body: Mapping[str, Any]) -> bytes:
    """Return JSON the way Graph writes it: compact, ASCII-only, with `/` escaped as `\\/`."""
    # "/" occurs only inside strings in JSON text, so the blanket replace is safe.
    return json.dumps(body, separators=(",", ":")).replace("/", "\\/").encode()
