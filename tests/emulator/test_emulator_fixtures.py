"""The shipped data sets: waba_250.json matches its generator and covers every enum; demo.json is rich."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any, cast

from opencams.emulator import demo_document, load_state_file, parse_state
from opencams.emulator.encryption import is_rsa_2048_pem

from .helpers import BIG_WABA, FIXTURE_DIR, OTHER_TOKEN, OTHER_WABA, TOKEN, WABA_250


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("waba_250_generator", FIXTURE_DIR / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def big_numbers() -> list[dict[str, Any]]:
    state = json.loads(WABA_250.read_text(encoding="utf-8"))
    numbers: list[dict[str, Any]] = state["wabas"][BIG_WABA]["phone_numbers"]
    return numbers


def values(field: str) -> set[Any]:
    return {n[field] for n in big_numbers() if field in n}


def test_waba_250_is_what_the_generator_writes() -> None:
    render = cast(Callable[[], str], load_generator().render)
    assert WABA_250.read_text(encoding="utf-8") == render()


def test_waba_250_loads_with_both_tokens() -> None:
    state = load_state_file(WABA_250)
    assert state.tokens[TOKEN] == {BIG_WABA}
    assert state.tokens[OTHER_TOKEN] == {OTHER_WABA}
    assert len(state.wabas[BIG_WABA].numbers) == 250
    assert 0 < len(state.wabas[OTHER_WABA].numbers) < 10


def test_waba_250_ids_are_unique_numeric_strings() -> None:
    ids = [n["id"] for n in big_numbers()]
    assert len(set(ids)) == 250
    assert all(i.isdigit() for i in ids)
    assert len({n["display_phone_number"] for n in big_numbers()}) == 250


def test_waba_250_covers_every_enum_value() -> None:
    assert values("status") == {
        "PENDING", "DELETED", "MIGRATED", "BANNED", "RESTRICTED", "RATE_LIMITED",
        "FLAGGED", "CONNECTED", "DISCONNECTED", "UNKNOWN", "UNVERIFIED",
    }  # fmt: skip
    assert values("quality_rating") == {"GREEN", "YELLOW", "RED", "NA", "UNKNOWN"}
    assert values("code_verification_status") == {"NOT_VERIFIED", "VERIFIED", "EXPIRED"}
    name_statuses = {
        "APPROVED", "AVAILABLE_WITHOUT_REVIEW", "DECLINED", "EXPIRED", "PENDING_REVIEW", "NONE",
    }  # fmt: skip
    assert values("name_status") == name_statuses
    assert values("new_name_status") == name_statuses
    assert values("is_official_business_account") == {True, False}
    assert values("account_mode") == {"LIVE", "SANDBOX"}
    assert {t["level"] for t in values_list("throughput")} == {"STANDARD", "HIGH", "NOT_APPLICABLE"}
    assert values("platform_type") == {"CLOUD_API", "ON_PREMISE", "NOT_APPLICABLE"}
    assert "TIER_2K" in values("whatsapp_business_manager_messaging_limit")


def values_list(field: str) -> list[Any]:
    return [n[field] for n in big_numbers() if field in n]


def test_waba_250_covers_the_awkward_absences() -> None:
    numbers = big_numbers()
    assert any("name_status" not in n for n in numbers)
    assert any("new_name_status" not in n for n in numbers)
    assert any("is_official_business_account" not in n for n in numbers)
    assert sum("messaging_limit_tier" in n for n in numbers) > 125  # most have the tier
    portfolio_only = [
        n for n in numbers
        if "messaging_limit_tier" not in n and "whatsapp_business_manager_messaging_limit" in n
    ]  # fmt: skip
    neither = [
        n for n in numbers
        if "messaging_limit_tier" not in n and "whatsapp_business_manager_messaging_limit" not in n
    ]  # fmt: skip
    assert portfolio_only and neither
    digits_only = [n for n in numbers if n["display_phone_number"].isdigit()]
    formatted = [n for n in numbers if n["display_phone_number"].startswith("+")]
    assert digits_only and formatted
    assert any(n["display_phone_number"].startswith("+86 138-") for n in formatted)
    assert any(n["display_phone_number"].startswith("+1 631-") for n in formatted)


def test_demo_data_set_covers_the_common_states() -> None:
    demo = demo_document()
    assert set(demo["tokens"]["demo-token"]) == set(demo["wabas"])
    assert len(demo["wabas"]) == 3
    assert all(w.isdigit() and 15 <= len(w) <= 16 for w in demo["wabas"])
    numbers = [n for w in demo["wabas"].values() for n in w["phone_numbers"]]
    pairs = {(n["status"], n["quality_rating"]) for n in numbers}
    assert {("CONNECTED", "GREEN"), ("PENDING", "NA"), ("FLAGGED", "YELLOW"), ("RESTRICTED", "RED")} <= pairs
    assert "BANNED" in {n["status"] for n in numbers}
    assert any(
        n["status"] == "PENDING" and n["code_verification_status"] == "NOT_VERIFIED"
        and n["name_status"] == "PENDING_REVIEW"
        for n in numbers
    )  # fmt: skip
    assert any(n.get("messaging_limit_tier") == "TIER_10K" and n["name_status"] == "APPROVED" for n in numbers)
    assert any("messaging_limit_tier" not in n and "whatsapp_business_manager_messaging_limit" in n for n in numbers)
    assert any(n["display_phone_number"].isdigit() for n in numbers)
    assert [n.get("is_official_business_account") for n in numbers].count(True) == 1
    prefixes = {n["display_phone_number"].lstrip("+")[:2] for n in numbers}
    assert {"86", "62", "1 ", "44"} <= prefixes


def test_demo_data_set_shows_the_lifecycle_features() -> None:
    state = parse_state(demo_document())
    (app,) = state.apps.values()
    assert app.secret == "demo-app-secret"
    assert set(state.token_apps.values()) == {app.id}
    assert {w.business_id for w in state.wabas.values()} == set(state.businesses)
    assert {b.fields["verification_status"] for b in state.businesses.values()} >= {
        "verified",
        "pending_need_more_info",
    }
    assert sum(bool(w.subscribed_apps) for w in state.wabas.values()) == 2
    numbers = list(state.phones.values())
    assert sum("business_profile" in n for n in numbers) >= 3
    assert sum("pin" in n for n in numbers) >= 2
    keyed = [n for n in numbers if "business_public_key" in n]
    assert len(keyed) == 1 and is_rsa_2048_pem(keyed[0]["business_public_key"])
    assert any(n.get("health") for n in numbers)
    assert all(w.fields.get("account_review_status") == "APPROVED" for w in state.wabas.values())
