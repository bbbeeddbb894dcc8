from pathlib import Path

import pytest
from pydantic import ValidationError

from omc.envdocs import render_env_docs
from omc.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def test_env_docs_match_the_settings() -> None:
    committed = (REPO / "docs" / "ENV.md").read_text(encoding="utf-8")

    assert committed == render_env_docs(), "run: omc settings docs --output docs/ENV.md"


def test_every_setting_is_documented() -> None:
    undocumented = [
        name for name, f in Settings.model_fields.items() if not f.description
    ]

    assert undocumented == []


def test_no_settings_means_embedded_mode_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)

    assert settings.is_embedded_db
    assert settings.database_url_value == f"sqlite:///{tmp_path / 'omc.db'}"
    assert settings.redis_url is None
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)


def test_list_settings_accept_commas_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMC_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("OMC_SEC_CIKS", '["1", "2"]')

    settings = Settings(_env_file=None)

    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.sec_ciks == ["1", "2"]


def test_secrets_are_hidden_in_the_settings_repr() -> None:
    settings = Settings(
        _env_file=None, jwt_secret="j" * 40, cryptopanic_token="tok-123456"
    )

    assert "jjjj" not in repr(settings)
    assert "tok-123456" not in repr(settings)
    assert set(settings.secret_values()) == {"j" * 40, "tok-123456"}


def test_a_redis_url_with_another_scheme_is_rejected() -> None:
    with pytest.raises(ValidationError, match="redis://"):
        Settings(_env_file=None, redis_url="http://localhost:6379")
