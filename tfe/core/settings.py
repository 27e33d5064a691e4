"""Settings: one pydantic-settings class, read once and passed explicitly.

Values come from ``TFE_*`` environment variables, then an optional settings file (``TFE_SETTINGS_FILE``,
dotenv syntax), then defaults. No I/O happens here beyond reading that file: directories are created by
``tfe init``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tfe.core.errors import ConfigurationError

DEV_SECRET = "dev-insecure-secret-change-me"


class Settings(BaseSettings):
    """All configuration of a tfe installation."""

    model_config = SettingsConfigDict(
        env_prefix="TFE_",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Field(default=Path("tfe-data"), description="Where the database, index and blobs live")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite under data_dir if unset"
    )
    search_backend: Literal["embedded", "opensearch"] = "embedded"
    opensearch_url: str | None = Field(
        default=None,
        description="OpenSearch cluster URL (TFE_SEARCH_BACKEND=opensearch); may hold credentials",
    )
    opensearch_index: str = Field(default="tfe-passages", description="OpenSearch index of the passages")
    opensearch_timeout_s: float = Field(default=5.0, gt=0, description="Timeout of every OpenSearch request")
    opensearch_replicas: int = Field(default=1, ge=0, description="Replicas of the index created by tfe")
    tika_url: str | None = None
    smtp_url: str | None = None
    master_key_file: Path | None = Field(
        default=None, description="The operator's key-encryption keyring (mode 0600); required in production"
    )
    key_provider: Literal["file", "pkcs11"] = Field(
        default="file", description="Where the key-encryption key lives: a key file or a PKCS#11 token (HSM)"
    )
    pkcs11_library: Path = Field(
        default=Path("/usr/lib/softhsm/libsofthsm2.so"), description="The PKCS#11 module of the HSM"
    )
    pkcs11_token_label: str | None = Field(default=None, description="Label of the PKCS#11 token")
    pkcs11_pin: SecretStr | None = Field(default=None, description="User PIN of the PKCS#11 token (secret)")
    pkcs11_key_label: str = Field(
        default="tfe-kek", description="Label prefix of the key-encryption keys on the token (-v1, -v2...)"
    )
    secret_key: str = Field(default=DEV_SECRET, description="Signs session cookies")

    host: str = "127.0.0.1"
    port: int = 8000

    max_file_bytes: int = Field(default=50 * 1024 * 1024, description="Ingest cap per file")
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, description="Upload cap per request")
    max_feed_bytes: int = Field(default=10 * 1024 * 1024, description="Cap on one fetched feed")
    tika_max_chars: int = Field(default=20_000_000, description="Tika's string cap (its default is 500,000)")
    extract_timeout_s: float = Field(default=60.0, description="Time limit of one file's extraction (Tika)")
    extract_memory_mb: int = Field(
        default=2048, description="Memory cap of the Tika child process (RLIMIT_DATA); 0 = no cap"
    )
    max_expansion_ratio: float = Field(
        default=200.0, description="Refuse ZIP containers expanding more than this many times their size"
    )
    max_uncompressed_mb: int = Field(default=1024, description="Refuse ZIP containers expanding beyond this")
    analysis_sample_chars: int = Field(
        default=20_000, description="Characters of a long text read by language detection, NLP and classifier"
    )
    feed_timeout_s: float = 20.0
    fetch_allow_private: bool = Field(
        default=False,
        description="Let sources, articles and webhooks reach private, loopback and link-local addresses",
    )
    max_page_bytes: int = Field(default=5 * 1024 * 1024, description="Cap on one fetched page or article")
    max_decompressed_bytes: int = Field(
        default=20 * 1024 * 1024, description="Cap on a fetched body once decompressed (gzip bombs)"
    )
    max_redirects: int = 5
    user_agent: str = "tfe-veille/0.2 (Team France Export; +https://tfe.example.org/robots)"
    redis_url: str | None = Field(default=None, description="Jobs and rate limits in Redis (scale mode)")
    jobs_backend: Literal["sqlite", "redis", "memory"] = Field(
        default="sqlite", description="Huey storage: SQLite under the data dir, Redis (TFE_REDIS_URL), memory"
    )
    worker_threads: int = Field(default=4, ge=1, description="Consumers of one worker process")
    embedded_worker: bool = Field(default=True, description="tfe serve and tfe demo run a worker in-process")
    poll_tick_s: int = Field(default=30, ge=1, description="How often the scheduler looks for due sources")
    poll_host_concurrency: int = Field(default=2, ge=1, description="Simultaneous requests to one host")
    poll_host_delay_s: float = Field(default=1.0, ge=0, description="Delay between two requests to a host")
    poll_min_interval_s: int = Field(default=900, ge=1, description="Default shortest polling interval")
    poll_max_interval_s: int = Field(default=86400, ge=1, description="Default longest polling interval")
    poll_dead_after: int = Field(default=10, ge=1, description="Consecutive failures before a source is dead")
    poll_max_entries: int = Field(default=100, ge=1, description="New entries stored per poll, newest first")
    fulltext_timeout_s: float = Field(default=15.0, description="Time limit of one article's fetch")
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="The platform's address, for links in e-mails and feeds"
    )
    smtp_from: str = Field(default="Veille TFE <veille@tfe.local>", description="Sender of alert e-mails")
    smtp_timeout_s: float = Field(default=20.0, description="Time limit of one SMTP conversation")
    alert_max_attempts: int = Field(default=5, ge=1, description="Tries of one digest on one channel")
    webhook_max_failures: int = Field(default=5, ge=1, description="Failures in a row disabling a webhook")
    digest_max_stories: int = Field(default=50, ge=1, description="Stories in one digest at most")
    expiry_reminder_days: int = Field(
        default=30, ge=1, description="Days before a document's validity end its owner is e-mailed a reminder"
    )
    trash_retention_days: int = Field(
        default=30, ge=1, description="Days a deleted document stays restorable in the trash before its purge"
    )
    version_lock_minutes: int = Field(
        default=120, ge=1, le=10080, description="Default length of a document's check-out lock"
    )

    passage_words: int = Field(default=180, description="Target passage length in words")
    passage_overlap_words: int = 30
    embed_batch: int = 16
    embed_inline_max_passages: int = Field(
        default=8, description="Passages per document embedded at ingest; the rest are back-filled"
    )
    embed_threads: int = Field(
        default=0, ge=0, description="Threads of the embedding model; 0: every core, at most 4"
    )

    near_duplicate_threshold: float = Field(
        default=0.8, gt=0, le=1, description="Estimated Jaccard of word 5-grams reported as a near-duplicate"
    )
    preview_width: int = Field(default=300, ge=32, le=2000, description="Width of thumbnails in pixels")
    preview_timeout_s: float = Field(
        default=20.0, gt=0, description="Time limit of one thumbnail (office conversion included)"
    )

    # security (issue 9): sessions, sign-in providers, throttles and the exfiltration guard
    session_max_age_s: int = Field(default=8 * 3600, ge=60, description="Lifetime of a browser session")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or CIDR networks of reverse proxies whose X-Forwarded-For is believed, "
        "comma-separated (empty: none)",
    )
    ratelimit_url: str | None = Field(
        default=None,
        description="Store of throttles and guard counters (limits URI: memory://, redis://...); "
        "defaults to TFE_REDIS_URL when set, else memory",
    )
    login_max_failures: int = Field(default=5, ge=1, description="Failures per account and address")
    login_window_s: int = Field(default=300, ge=1, description="Window of the sign-in failure counts")
    login_address_max_failures: int = Field(default=30, ge=1, description="Failures per address, any account")
    login_address_window_s: int = Field(default=300, ge=1, description="Window of the per-address count")
    login_account_max_failures: int = Field(
        default=20, ge=1, description="Failures per account, any address, before its soft lock"
    )
    login_account_window_s: int = Field(default=900, ge=1, description="Window of the per-account count")
    login_account_delay_s: int = Field(
        default=30, ge=1, description="Soft lock: one attempt per this many seconds for the account"
    )
    token_max_failures: int = Field(default=20, ge=1, description="Bad API tokens per address")
    token_window_s: int = Field(default=60, ge=1, description="Window of the bad-token count")
    oidc_providers_file: Path | None = Field(
        default=None, description="JSON list of OIDC sign-in providers (see docs/security.md)"
    )
    guard_enabled: bool = Field(default=True, description="Count reads and respond to unusual use")
    guard_work_hours: str = Field(default="07-20", description="Working hours (local time) of the guard")
    guard_timezone: str = Field(default="Europe/Paris", description="Time zone of the working hours")

    admin_email: str = "admin@tfe.local"
    admin_password: str | None = Field(default=None, description="Generated and printed by init if unset")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        """``TFE_TRUSTED_PROXIES``: comma- or space-separated, or a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part for part in text.replace(",", " ").split() if part]
        return value

    @field_validator("secret_key")
    @classmethod
    def _no_default_secret_in_production(cls, value: str, info) -> str:  # type: ignore[no-untyped-def]
        if info.data.get("environment") == "production" and value == DEV_SECRET:
            raise ValueError("TFE_SECRET_KEY must be set in production")
        return value

    @property
    def resolved_ratelimit_url(self) -> str:
        """The ``limits`` storage URI: ``ratelimit_url``, else ``redis_url``, else process memory."""
        return self.ratelimit_url or self.redis_url or "memory://"

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'tfe.sqlite3'}"

    @property
    def embedding_threads(self) -> int:
        """``embed_threads`` resolved: 0 means every core of the machine (at most 4)."""
        return self.embed_threads or max(1, min(4, os.cpu_count() or 1))

    @property
    def index_dir(self) -> Path:
        return self.resolved_data_dir / "index"

    @property
    def blob_dir(self) -> Path:
        return self.resolved_data_dir / "blobs"

    @property
    def keys_dir(self) -> Path:
        """The column key, the development key file, the receipt signing key, the revocation marker."""
        return self.resolved_data_dir / "keys"


def settings_file() -> Path | None:
    """The settings file named by ``TFE_SETTINGS_FILE`` now (read at each load, never at import)."""
    name = os.environ.get("TFE_SETTINGS_FILE")
    return Path(name) if name else None


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; keyword overrides win over the environment (used by tests and the CLI).

    ``TFE_SETTINGS_FILE`` is looked up when this is called, so a file named after import still counts;
    a named file that does not exist is an error rather than silently ignored.
    """
    path = settings_file()
    if path is not None and not path.is_file():
        raise ConfigurationError(f"settings file not found: {path}")
    return Settings(_env_file=path, **overrides)  # type: ignore[arg-type, call-arg]
