"""Declarations are checked when registered, and parameters are typed and bounded when bound."""

from __future__ import annotations

from typing import Any

import pytest

from opencams.actions import build_registry, declared_actions
from opencams.errors import ApiError
from opencams.principal import Principal
from opencams.ratelimit import Rate
from opencams.rpc.registry import ActionSpec, Param, Registry, check_signature, snake_case

CALLER = Principal("1234567890123456", "root", "LTAIkey")


async def do_thing(call: Any, *, cust_space_id: str, count: int | None) -> dict[str, Any]:
    return {}


PARAMS = (Param("CustSpaceId", required=True), Param("Count", "long"))


def spec(params: tuple[Param, ...] = PARAMS, handler: Any = do_thing, name: str = "DoThing") -> ActionSpec:
    return ActionSpec(name, params, handler, "get", Rate(10, 1.0))


class TestRegistration:
    def test_a_matching_handler_registers(self) -> None:
        registry = Registry()
        registry.add(spec())
        assert registry.get("DoThing") is not None

    def test_a_handler_missing_a_parameter_fails_the_start(self) -> None:
        with pytest.raises(ValueError, match=r"missing \['status'\]"):
            check_signature("DoThing", do_thing, (*PARAMS, Param("Status")))

    def test_a_handler_with_an_extra_keyword_fails_the_start(self) -> None:
        with pytest.raises(ValueError, match=r"extra \['count'\]"):
            check_signature("DoThing", do_thing, PARAMS[:1])

    def test_a_handler_swallowing_keywords_fails_the_start(self) -> None:
        async def do_thing(call: Any, **params: Any) -> dict[str, Any]:
            return {}

        with pytest.raises(ValueError):
            check_signature("DoThing", do_thing, PARAMS)

    def test_the_handler_is_named_after_its_action(self) -> None:
        with pytest.raises(ValueError, match="must be named do_other_thing"):
            check_signature("DoOtherThing", do_thing, PARAMS)

    def test_twice_is_refused(self) -> None:
        registry = Registry()
        registry.add(spec())
        with pytest.raises(ValueError, match="twice"):
            registry.add(spec())

    def test_a_generic_parameter_cannot_be_redeclared(self) -> None:
        async def do_thing(call: Any, *, owner_id: str | None) -> dict[str, Any]:
            return {}

        with pytest.raises(ValueError, match="generic"):
            check_signature("DoThing", do_thing, (Param("OwnerId"),))

    def test_every_shipped_action_is_declared_correctly(self) -> None:
        names = [d.name for d, _ in declared_actions()]
        assert len(names) == len(set(names)) >= 11
        for declaration, fn in declared_actions():
            assert fn.__name__ == snake_case(declaration.name)
            assert declaration.access in ("get", "update")
            Rate.parse(declaration.rate)

    def test_a_bad_rate_fails_the_start(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import opencams.actions as actions

        (declaration, fn), *_ = declared_actions()
        broken = type(declaration)(declaration.name, declaration.access, "ten a second", declaration.params, "", False)
        monkeypatch.setattr(actions, "declared_actions", lambda: [(broken, fn)])
        with pytest.raises(ValueError, match=declaration.name):
            build_registry(None)  # type: ignore[arg-type]


class TestBinding:
    def test_values_are_typed(self) -> None:
        assert spec().bind({"CustSpaceId": "s1", "Count": "-12"}, CALLER) == {"cust_space_id": "s1", "count": -12}

    def test_absent_optional_parameters_are_none(self) -> None:
        assert spec().bind({"CustSpaceId": "s1", "Count": ""}, CALLER) == {"cust_space_id": "s1", "count": None}

    @pytest.mark.parametrize("given", [{}, {"CustSpaceId": ""}])
    def test_a_missing_required_parameter(self, given: dict[str, str]) -> None:
        with pytest.raises(ApiError) as info:
            spec().bind(given, CALLER)
        assert (info.value.code, info.value.message) == (
            "MissingCustSpaceId",
            "CustSpaceId is mandatory for this action.",
        )

    def test_generic_parameters_are_checked_and_not_passed(self) -> None:
        bound = spec().bind({"CustSpaceId": "s", "OwnerId": "5", "ResourceOwnerAccount": "a"}, CALLER)
        assert bound == {"cust_space_id": "s", "count": None}
        assert spec().bind({"CustSpaceId": "s", "ResourceOwnerId": CALLER.account_id}, CALLER)["cust_space_id"] == "s"
        with pytest.raises(ApiError) as info:
            spec().bind({"CustSpaceId": "s", "ResourceOwnerId": "1"}, CALLER)
        assert info.value.code == "Unknown.ResourceOwnerId"
        with pytest.raises(ApiError) as info:
            spec().bind({"CustSpaceId": "s", "OwnerId": "abc"}, CALLER)
        assert info.value.code == "InvalidParameter" and "OwnerId" in info.value.message


class TestKinds:
    @pytest.mark.parametrize(
        ("param", "raw", "value"),
        [
            (Param("N", "long"), "9223372036854775807", 2**63 - 1),
            (Param("N", "integer"), "-2147483648", -(2**31)),
            (Param("N", "millis"), "1693107714687", 1693107714687),
            (Param("N", "flag"), "Y", True),
            (Param("N", "flag"), "N", False),
            (Param("N", "json_list"), '["a", "b"]', ["a", "b"]),
            (Param("N", enum=("SMS", "VOICE"), enum_ignores_case=True), "sms", "SMS"),
            (Param("N", pattern=r"[0-9]+"), "123", "123"),
            (Param("N", multiline=True), "a\nb", "a\nb"),
        ],
    )
    def test_good_values(self, param: Param, raw: str, value: object) -> None:
        assert param.coerce(raw) == value

    @pytest.mark.parametrize(
        ("param", "raw", "why"),
        [
            (Param("N", "long"), "9223372036854775808", "integer"),
            (Param("N", "long"), "1e3", "integer"),
            (Param("N", "integer"), "2147483648", "integer"),
            (Param("N", "millis"), "1693107714", "milliseconds"),
            (Param("N", "flag"), "y", "Y or N"),
            (Param("N", "json_list"), '["a", 1]', "JSON array"),
            (Param("N", "json_list", max_items=2), '["a", "b", "c"]', "more than 2"),
            (Param("N", "json_list", max_length=20_000), "[" * 10_000, "JSON array"),
            (Param("N", enum=("SMS", "VOICE")), "sms", "one of SMS, VOICE"),
            (Param("N", pattern=r"[0-9]+", pattern_help="Digits only."), "12a", "Digits only."),
            (Param("N", max_length=3), "abcd", "longer than 3"),
            (Param("N"), "a\tb", "control character"),
        ],
    )
    def test_bad_values_name_the_parameter(self, param: Param, raw: str, why: str) -> None:
        with pytest.raises(ApiError) as info:
            param.coerce(raw)
        assert info.value.code == "InvalidParameter"
        assert info.value.message.startswith("Specified parameter N is not valid.")
        assert why in info.value.message
