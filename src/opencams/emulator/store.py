"""The current data set behind one lock: copy-on-write updates, replacement, and change notification."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from .state import GraphState, parse_state

ChangeListener = Callable[[GraphState, GraphState], None]


class Store:
    """Holds the current GraphState; writers build a new one from a changed copy of the document.

    A GraphState is immutable, so readers take `state` once and see one consistent snapshot
    without locking. Writers hold `lock` (re-entrant) across their checks and `update`, which
    makes check-then-write atomic across threads; run-time records (runtime.py) share it.
    """

    def __init__(self, initial: GraphState, on_change: ChangeListener | None = None) -> None:
        self.lock = threading.RLock()
        self._state = initial
        self._on_change = on_change

    @property
    def state(self) -> GraphState:
        """The current snapshot."""
        return self._state

    def update(self, change: Callable[[dict[str, Any]], None]) -> GraphState:
        """Apply `change` to a copy of the document, validate it, and make it current.

        Raises StateError (and changes nothing) when the result is not a valid document;
        whatever `change` raises also leaves the state as it was.
        """
        with self.lock:
            document = copy.deepcopy(dict(self._state.document))
            change(document)
            new = parse_state(document)
            old, self._state = self._state, new
            if self._on_change is not None:
                self._on_change(old, new)
        return new

    def replace(self, new: GraphState, *, notify: bool = True) -> GraphState:
        """Make `new` current; return the previous state."""
        with self.lock:
            old, self._state = self._state, new
            if notify and self._on_change is not None:
                self._on_change(old, new)
        return old


def find_number(document: dict[str, Any], phone_id: str) -> tuple[str, dict[str, Any]]:
    """Return (WABA id, mutable number object) for a phone-number id in a document copy.

    Raises KeyError when the id is not there.
    """
    for waba_id, waba in document.get("wabas", {}).items():
        for number in waba.get("phone_numbers", []):
            if number.get("id") == phone_id:
                return waba_id, number
    raise KeyError(phone_id)
