"""Writes from many threads at once: no lost updates, limits counted exactly, ids unique."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from opencams.emulator import create_app
from opencams.emulator.server import serve_in_thread

from .helpers import CONNECTED, LIFE_AUTH, PENDING, W1, life_state

THREADS = 16


def test_parallel_adds_keep_every_number(life_url: str) -> None:
    def add(index: int) -> str:
        response = httpx.post(
            f"{life_url}/v23.0/{W1}/phone_numbers",
            headers=LIFE_AUTH,
            data={"cc": "1", "phone_number": f"63155502{index:02d}", "verified_name": f"Shop {index}"},
        )
        assert response.status_code == 200, response.text
        new_id: str = response.json()["id"]
        return new_id

    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(add, range(40)))
    assert len(set(ids)) == 40
    stored = httpx.get(f"{life_url}/_emulator/state").json()["wabas"][W1]["phone_numbers"]
    assert {n["id"] for n in stored} >= set(ids)
    assert len(stored) == 3 + 40


def test_parallel_profile_writes_are_all_kept(life_url: str) -> None:
    fields = ["about", "address", "description", "email", "vertical", "websites"]
    values = {
        "about": "About us",
        "address": "1 Main St",
        "description": "We sell things",
        "email": "a@b.example",
        "vertical": "RETAIL",
        "websites": ["https://w.example"],
    }

    def write(field: str) -> int:
        response = httpx.post(
            f"{life_url}/v23.0/{CONNECTED}/whatsapp_business_profile",
            headers=LIFE_AUTH,
            json={"messaging_product": "whatsapp", field: values[field]},
        )
        return response.status_code

    with ThreadPoolExecutor(THREADS) as pool:
        assert set(pool.map(write, fields * 3)) == {200}
    read = httpx.get(
        f"{life_url}/v23.0/{CONNECTED}/whatsapp_business_profile",
        headers=LIFE_AUTH,
        params={"fields": ",".join(fields)},
    )
    assert read.json()["data"][0] == {**values, "messaging_product": "whatsapp"}


def test_request_code_limit_is_exact_under_contention() -> None:
    state = life_state()
    state["settings"]["request_code_max"] = 5
    with serve_in_thread(create_app(state)) as url:

        def ask(_: int) -> int:
            response = httpx.post(
                f"{url}/v23.0/{PENDING}/request_code",
                headers=LIFE_AUTH,
                params={"code_method": "SMS", "language": "en_US"},
            )
            return 0 if response.status_code == 200 else response.json()["error"]["code"]

        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = list(pool.map(ask, range(30)))
    assert outcomes.count(0) == 5
    assert outcomes.count(136024) == 25
