"""All configuration of Oh My Coins, read once from the environment.

Every field is an `OMC_*` environment variable (or a line in `.env`). `docs/ENV.md`
is generated from this class by `omc settings docs`, so the description of each
field is the operator's documentation.
"""

import json
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import AnyUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "load_settings"]

MIN_JWT_SECRET_CHARS = 32


def _split_commas(value: object) -> object:
    """Accept `a,b,c` as well as a JSON list for list-valued variables."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """Settings of every process; unset fields take the embedded defaults."""

    model_config = SettingsConfigDict(
        env_prefix="OMC_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # Storage
    data_dir: Path = Field(
        default=Path.home() / ".omc",
        description="Folder for the embedded database, queue, generated keys and "
        "artifacts. Created on first use.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the database, e.g. "
        "`postgresql+psycopg://user:pass@host:5432/omc`. Unset: a SQLite file "
        "`omc.db` in the data folder (embedded mode).",
    )
    database_pool_size: int = Field(
        default=5, ge=1, le=100, description="Connections kept open per process."
    )
    redis_url: SecretStr | None = Field(
        default=None,
        description="Redis URL without a database number, e.g. "
        "`redis://host:6379`. Databases 0 to 3 are used by role. Unset: an "
        "in-process cache and a SQLite queue in the data folder.",
    )

    # Logging
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level written to the log."
    )
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="`json` writes one JSON object per line, `text` a readable "
        "line; `auto` picks text on a terminal and JSON elsewhere.",
    )

    # API
    api_host: str = Field(
        default="127.0.0.1", description="Address `omc api` and `omc up` listen on."
    )
    api_port: int = Field(
        default=8000, ge=1, le=65535, description="Port `omc api` and `omc up` use."
    )
    cors_origins: CommaList = Field(
        default_factory=list,
        description="Browser origins allowed to call the API, comma separated. "
        "Empty: no cross-origin access.",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body accepted; larger ones get 413.",
    )
    rate_limit_user_per_min: int = Field(
        default=120, ge=1, description="Requests a signed-in user may make a minute."
    )
    rate_limit_ip_per_min: int = Field(
        default=300, ge=1, description="Requests one client address may make a minute."
    )

    # Auth
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs access tokens, at least 32 characters. Unset "
        "in embedded mode: generated once into the data folder. Required with a "
        "server database.",
    )
    access_token_ttl_s: int = Field(
        default=3600, ge=60, description="Lifetime of an access token in seconds."
    )
    first_admin_email: str | None = Field(
        default=None,
        description="Email of an admin account created at startup if no user exists.",
    )
    first_admin_password: SecretStr | None = Field(
        default=None, description="Password of that first admin account."
    )

    db_collector_password: SecretStr | None = Field(
        default=None,
        description="Password `omc db roles` sets for `collector_user`. Unset: the "
        "role logs in only where the server trusts it.",
    )
    db_agent_password: SecretStr | None = Field(
        default=None, description="Password `omc db roles` sets for `agent_user`."
    )
    db_readonly_password: SecretStr | None = Field(
        default=None, description="Password `omc db roles` sets for `readonly_user`."
    )

    # Queue and process metrics
    worker_threads: int = Field(
        default=2, ge=1, le=64, description="Tasks one worker process runs at once."
    )
    metrics_port: int = Field(
        default=9100,
        ge=0,
        le=65535,
        description="Port on which `omc worker` and `omc scheduler` serve /metrics "
        "(on OMC_API_HOST); "
        "0 turns it off. The API serves its metrics on its own port.",
    )

    scheduler_collectors: bool = Field(
        default=True,
        description="Whether `omc scheduler` (and `omc up`) run the collectors on "
        "their cadences. Turn it off where Kubernetes CronJobs run them.",
    )

    # Collectors: every source's address, credentials and cadence
    collector_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="Seconds one collector HTTP request may take before it is retried.",
    )
    collector_max_retries: int = Field(
        default=4,
        ge=0,
        le=20,
        description="Retries of one collector request after a timeout, a connection "
        "error, a 5xx or a 429.",
    )
    collector_backoff_base_s: float = Field(
        default=1.0,
        ge=0,
        description="First backoff delay before a retry, in seconds; it doubles on "
        "each retry, with jitter.",
    )
    collector_backoff_max_s: float = Field(
        default=60.0, ge=0, description="Longest backoff delay before a retry."
    )
    collector_run_budget_s: float = Field(
        default=600.0,
        gt=0,
        description="Longest a collector run may spend fetching, retries and waits "
        "included; the run fails rather than overrun it. The run lock expires a "
        "minute after this, so a crashed run never blocks the next ones for long.",
    )
    coinspot_base_url: str = Field(
        default="https://www.coinspot.com.au",
        description="CoinSpot base URL; `/pubapi/v2/latest` is appended.",
    )
    coinspot_cadence_s: int = Field(
        default=300, ge=10, description="Seconds between CoinSpot price runs."
    )
    defillama_base_url: str = Field(
        default="https://api.llama.fi",
        description="DeFiLlama base URL; `/v2/chains` and `/protocols` are appended.",
    )
    defillama_cadence_s: int = Field(
        default=3600, ge=10, description="Seconds between DeFiLlama TVL runs."
    )
    cryptopanic_base_url: str = Field(
        default="https://cryptopanic.com",
        description="CryptoPanic base URL; `/api/v1/posts/` is appended.",
    )
    cryptopanic_token: SecretStr | None = Field(
        default=None,
        description="CryptoPanic API token. Unset: the CryptoPanic collector reports "
        "itself disabled.",
    )
    cryptopanic_cadence_s: int = Field(
        default=900, ge=10, description="Seconds between CryptoPanic news runs."
    )
    reddit_auth_url: str = Field(
        default="https://www.reddit.com",
        description="Reddit OAuth base URL; `/api/v1/access_token` is appended.",
    )
    reddit_base_url: str = Field(
        default="https://oauth.reddit.com",
        description="Reddit API base URL; `/r/{subreddit}/new` is appended.",
    )
    reddit_client_id: str | None = Field(
        default=None,
        description="Reddit app client id. Unset: the Reddit collector reports itself "
        "disabled.",
    )
    reddit_client_secret: SecretStr | None = Field(
        default=None, description="Reddit app client secret."
    )
    reddit_subreddits: CommaList = Field(
        default_factory=lambda: ["CryptoCurrency", "Bitcoin", "ethereum"],
        description="Subreddits to collect, comma separated, without `r/`.",
    )
    reddit_cadence_s: int = Field(
        default=900, ge=10, description="Seconds between Reddit runs."
    )
    sec_base_url: str = Field(
        default="https://data.sec.gov",
        description="SEC EDGAR data base URL; `/submissions/CIK##########.json` is "
        "appended.",
    )
    sec_user_agent: str | None = Field(
        default=None,
        description="User-Agent SEC requires: the operator's name and a contact "
        "email, e.g. `Example Research ops@example.com`. Unset: the SEC collector "
        "reports itself disabled.",
    )
    sec_ciks: CommaList = Field(
        default_factory=lambda: ["1679788", "1050446"],
        description="CIKs of the companies whose filings are collected, comma "
        "separated (default: Coinbase, MicroStrategy).",
    )
    sec_cadence_s: int = Field(
        default=3600, ge=10, description="Seconds between SEC EDGAR runs."
    )

    # Lab
    artifacts_url: str | None = Field(
        default=None,
        description="Where Lab sessions save models, reports and metadata: a local "
        "folder or any fsspec URL such as `s3://bucket/omc-artifacts` (S3 needs the "
        "`s3` extra). Unset: `artifacts` in the data folder.",
    )
    lab_threads: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Native threads one Lab model fit may use. Keep it at or below "
        "the free cores: oversubscribed boosting slows down many times over.",
    )

    llm_providers: CommaList = Field(
        default_factory=list,
        description="LLM providers the Lab planner tries in order, comma separated: "
        "`openai`, `anthropic`, `compatible` (any OpenAI-compatible server). Empty: "
        "only the deterministic planner, which is also the last fallback.",
    )
    llm_openai_api_key: SecretStr | None = Field(
        default=None, description="OpenAI API key; the `openai` provider needs it."
    )
    llm_openai_base_url: str | None = Field(
        default=None, description="OpenAI API base URL. Unset: the public endpoint."
    )
    llm_openai_model: str = Field(
        default="gpt-4o-mini", description="OpenAI model the planner asks."
    )
    llm_anthropic_api_key: SecretStr | None = Field(
        default=None,
        description="Anthropic API key; the `anthropic` provider needs it.",
    )
    llm_anthropic_base_url: str | None = Field(
        default=None, description="Anthropic API base URL. Unset: the public endpoint."
    )
    llm_anthropic_model: str = Field(
        default="claude-3-5-haiku-latest",
        description="Anthropic model the planner asks.",
    )
    llm_compatible_base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible server (e.g. a local model "
        "server's `http://host:8080/v1`); the `compatible` provider needs it.",
    )
    llm_compatible_api_key: SecretStr | None = Field(
        default=None, description="API key of the OpenAI-compatible server, if any."
    )
    llm_compatible_model: str = Field(
        default="default", description="Model name to ask the OpenAI-compatible server."
    )
    llm_timeout_s: float = Field(
        default=20.0, gt=0, le=300, description="Seconds one LLM call may take."
    )
    llm_max_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Retries of an LLM call answered with 429 or 5xx or timed out, "
        "before falling back to the next provider.",
    )
    llm_rate_limit_per_min: int = Field(
        default=30, ge=1, description="LLM calls one provider may get per minute."
    )
    llm_cache_ttl_s: int = Field(
        default=86_400,
        ge=1,
        description="Seconds an LLM plan stays cached (Redis db 2).",
    )

    # Lab sessions
    lab_max_active_sessions: int = Field(
        default=2,
        ge=1,
        description="Lab sessions one user may have queued, running or waiting at "
        "once; more are refused with 429.",
    )
    lab_heartbeat_ttl_s: int = Field(
        default=60,
        ge=2,
        description="Seconds a running Lab session's heartbeat lasts; a session whose "
        "worker stopped beating this long resumes on another worker.",
    )
    lab_retention_days: int = Field(
        default=30,
        ge=1,
        description="Days Lab sessions, their events, checkpoints and artifacts are "
        "kept after they end; a periodic job prunes older ones.",
    )

    @field_validator(
        "cors_origins", "reddit_subreddits", "sec_ciks", "llm_providers", mode="before"
    )
    @classmethod
    def _parse_origins(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("llm_providers")
    @classmethod
    def _check_llm_providers(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - {"openai", "anthropic", "compatible"})
        if unknown:
            raise ValueError(
                f"unknown providers {unknown}; use openai, anthropic, compatible"
            )
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _check_jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_JWT_SECRET_CHARS:
            raise ValueError(f"must be at least {MIN_JWT_SECRET_CHARS} characters")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        scheme = AnyUrl(value.get_secret_value()).scheme
        if not scheme.startswith(("postgresql", "sqlite")):
            raise ValueError("must be a postgresql:// or sqlite:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and AnyUrl(value.get_secret_value()).scheme not in {
            "redis",
            "rediss",
        }:
            raise ValueError("must be a redis:// or rediss:// URL")
        return value

    @property
    def is_embedded_db(self) -> bool:
        """Whether the database is the embedded SQLite file or another SQLite URL."""
        return self.database_url_value.startswith("sqlite")

    @property
    def database_url_value(self) -> str:
        """The database URL in clear, for the engine only; never log it."""
        if self.database_url is None:
            return f"sqlite:///{self.data_dir / 'omc.db'}"
        return self.database_url.get_secret_value()

    @property
    def artifacts_location(self) -> str:
        """The artifacts URL, or the local default folder when unset."""
        return self.artifacts_url or str(self.data_dir / "artifacts")

    def secret_values(self) -> list[str]:
        """Return every secret this configuration holds, for log redaction."""
        secrets = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                text = value.get_secret_value()
                secrets.append(text)
                if "://" in text:
                    password = urlsplit(text).password
                    if password:
                        secrets.append(unquote(password))
        return secrets


def load_settings() -> Settings:
    """Read the settings from the environment and `.env`."""
    return Settings()
