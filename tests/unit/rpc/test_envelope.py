"""Response bodies: JSON and XML, with their RequestId and waits."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from opencams.errors import LimitControl, PermissionDenied, ServiceUnavailable
from opencams.rpc import envelope


def test_success_starts_with_the_request_id() -> None:
    response = envelope.success("Do", {"Code": "OK", "List": [1, 2]}, request_id="RID")
    assert response.headers["x-acs-request-id"] == "RID"
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    assert list(json.loads(response.body)) == ["RequestId", "Code", "List"]


def test_an_error_has_the_five_fields_and_its_extras() -> None:
    response = envelope.error(PermissionDenied({"AuthAction": "cams:Do"}), request_id="RID", host="h")
    body = json.loads(response.body)
    assert response.status_code == 400
    assert body["AccessDeniedDetail"] == {"AuthAction": "cams:Do"}
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend", "AccessDeniedDetail"}


def test_waits_in_seconds_and_milliseconds() -> None:
    response = envelope.error(LimitControl(retry_after=3), request_id="RID", host="h")
    assert (response.headers["retry-after"], response.headers["x-acs-retry-after"]) == ("3", "3000")
    assert "retry-after" not in envelope.error(ServiceUnavailable(), request_id="RID", host="h").headers


def test_xml_survives_control_characters_and_lone_surrogates() -> None:
    body = {"Name": "a\x01b\x1fc\ud800d", "Items": [{"X": "<&>"}, {"X": "2"}], "Flag": True}
    root = ET.fromstring(envelope.to_xml("DoResponse", body))
    assert root.findtext("Name") == "a\ufffdb\ufffdc\ufffdd"
    assert [e.text for e in root.findall("Items/X")] == ["<&>", "2"]
    assert root.findtext("Flag") == "true"


def test_json_survives_a_lone_surrogate() -> None:
    response = envelope.success("Do", {"Name": "a\ud800b"}, request_id="RID")
    assert json.loads(response.body)["Name"] == "a?b"
