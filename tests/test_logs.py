import io
import json
import logging

import pytest
from fastapi.testclient import TestClient

from omc.api.app import create_app
from omc.db import migrate
from omc.logs import bind_context, configure_logging
from omc.runtime import Runtime
from omc.settings import Settings

logger = logging.getLogger("omc.test")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_json_lines_when_not_on_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)

    logger.info("collector run finished", extra={"rows": 3, "source": "coinspot"})

    (line,) = lines(stream)
    assert line["event"] == "collector run finished"
    assert line["level"] == "info"
    assert line["logger"] == "omc.test"
    assert line["rows"] == 3 and line["source"] == "coinspot"
    assert str(line["time"]).endswith("+00:00")


def test_readable_text_on_a_terminal() -> None:
    stream = Tty()
    configure_logging(stream=stream)

    logger.warning("retrying", extra={"attempt": 2})

    text = stream.getvalue()
    assert "WARNING" in text and "omc.test: retrying" in text and "attempt=2" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_bound_context_appears_on_every_line_inside_the_block() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)

    with bind_context(collector_run=7):
        logger.info("inside")
    logger.info("outside")

    inside, outside = lines(stream)
    assert inside["collector_run"] == 7
    assert "collector_run" not in outside


def test_secret_values_never_reach_the_log() -> None:
    settings = Settings(
        _env_file=None,
        database_url="postgresql+psycopg://omc:pg-p%40ss-word@db:5432/omc",
        jwt_secret="s" * 20 + "jwt-secret-value-xyz",
        cryptopanic_token="cp-token-123456",
    )
    stream = io.StringIO()
    configure_logging(
        stream=stream, log_format="json", secrets=settings.secret_values()
    )

    logger.info("connecting to %s", settings.database_url_value)
    logger.info("token %s", "cp-token-123456")
    logger.info("signing", extra={"key": settings.jwt_secret.get_secret_value()})  # type: ignore[union-attr]
    logger.info("login", extra={"password": "hunter2-typed", "auth_token": "abc"})
    try:
        raise RuntimeError("failed with pg-p@ss-word")
    except RuntimeError:
        logger.exception("boom")

    output = stream.getvalue()
    for secret in (
        "pg-p@ss-word",
        "pg-p%40ss-word",
        "jwt-secret-value-xyz",
        "cp-token-123456",
        "hunter2-typed",
    ):
        assert secret not in output
    assert output.count("***") >= 5


def test_every_api_log_line_carries_the_request_id(embedded_settings: Settings) -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, log_format="json")
    runtime = Runtime.build(embedded_settings)
    migrate.upgrade(runtime.engine)
    try:
        with TestClient(create_app(runtime)) as client:
            client.get("/api/v1/users/me", headers={"X-Request-ID": "req-42"})
    finally:
        runtime.close()

    request_lines = [
        line for line in lines(stream) if line.get("path") == "/api/v1/users/me"
    ]
    assert request_lines and all(
        line["request_id"] == "req-42" for line in request_lines
    )
    assert request_lines[0]["status"] == 401
