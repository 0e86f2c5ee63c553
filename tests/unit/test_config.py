"""Settings: the README's configuration reference is the generated one."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from opencams.config import Settings, reference_markdown

README = Path(__file__).parents[2] / "README.md"


def test_readme_configuration_reference_is_current() -> None:
    text = README.read_text()
    start = text.index("<!-- config-reference:start -->\n") + len("<!-- config-reference:start -->\n")
    end = text.index("<!-- config-reference:end -->")
    assert text[start:end] == reference_markdown()


def test_every_setting_has_a_description() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_bad_values_are_refused_with_the_variable_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCAMS_GRAPH_VERSION", "23")
    with pytest.raises(ValidationError) as info:
        Settings()
    assert info.value.errors()[0]["loc"] == ("graph_version",)
    monkeypatch.setenv("OPENCAMS_GRAPH_VERSION", "v24.0")
    monkeypatch.setenv("OPENCAMS_RATE_LIMIT_ON_REDIS_FAILURE", "maybe")
    with pytest.raises(ValidationError):
        Settings()


def test_sqlite_is_the_default(tmp_path: Path) -> None:
    cfg = Settings(data_dir=tmp_path)
    assert cfg.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'opencams.db'}"
    assert cfg.should_auto_migrate
    assert not Settings(database_url="postgresql://x/y").should_auto_migrate
