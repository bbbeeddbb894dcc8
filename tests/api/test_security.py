import io
import logging
import stat

import pytest

from omc.api.security import resolve_jwt_secret
from omc.errors import ConfigError
from omc.logs import configure_logging
from omc.settings import Settings
from tests.conftest import PG_URL


def test_embedded_mode_generates_a_private_signing_key_once(
    embedded_settings: Settings,
) -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, log_format="json")

    first = resolve_jwt_secret(embedded_settings)
    second = resolve_jwt_secret(embedded_settings)

    key_file = embedded_settings.data_dir / "jwt_secret"
    assert first == second and len(first) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first not in stream.getvalue()
    assert "generated a token signing key" in stream.getvalue()


def test_a_configured_key_is_used_as_is(embedded_settings: Settings) -> None:
    settings = embedded_settings.model_copy(update={"jwt_secret": None})
    configured = Settings(
        _env_file=None, data_dir=settings.data_dir, jwt_secret="k" * 32
    )

    assert resolve_jwt_secret(configured) == "k" * 32
    assert not (settings.data_dir / "jwt_secret").exists()


def test_a_server_database_without_a_key_is_a_config_error(
    embedded_settings: Settings,
) -> None:
    settings = Settings(
        _env_file=None, data_dir=embedded_settings.data_dir, database_url=PG_URL
    )

    with pytest.raises(ConfigError, match="OMC_JWT_SECRET"):
        resolve_jwt_secret(settings)
    logging.getLogger(__name__).info("no key file written")
    assert not (embedded_settings.data_dir / "jwt_secret").exists()
