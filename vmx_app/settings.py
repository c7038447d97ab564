"""The one place environment variables are read."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vmx_app.client_ip import IPv4Network, IPv6Network, parse_networks


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    # Storage profile: embedded default (SQLite + in-process counters) unless these are set.
    vmx_data_dir: Path = Field(default=Path("./data"))
    database_url: str | None = None
    database_ro_url: str | None = None
    redis_url: str | None = None
    redis_mode: Literal["single", "cluster"] = "single"
    redis_key_prefix: str = "vmx:"

    # Server
    vmx_host: str = "0.0.0.0"
    vmx_port: int = 3000
    vmx_base_url: str | None = None  # public URL, used for OIDC redirects; defaults to http://localhost:PORT
    vmx_workers: int = 1
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # First admin
    vmx_admin_email: str = "admin@vmx.local"
    vmx_admin_password: str | None = None

    # Sessions
    vmx_session_ttl_seconds: int = 12 * 3600
    vmx_cookie_secure: bool | None = None  # unset: Secure whenever VMX_BASE_URL is https

    # Credential encryption
    encryption_provider: Literal["libsodium", "aws-kms"] = "libsodium"
    libsodium_encryption_key: str | None = None
    libsodium_previous_keys: str | None = None  # comma-separated base64 keys still accepted for reads
    aws_kms_key_id: str | None = None
    aws_region: str | None = None

    # OIDC federated login
    oidc_federated_issuer: str | None = None
    oidc_federated_client_id: str | None = None
    oidc_federated_client_secret: str | None = None
    oidc_federated_scope: str = "openid profile email"
    oidc_federated_default_role: str = "power-user"

    # Gateway
    vmx_max_body_bytes: int = 5 * 1024 * 1024
    vmx_config_cache_ttl_seconds: float = 30.0
    vmx_audit_store_payloads: bool = True
    vmx_audit_flush_interval_seconds: float = Field(default=1.0, gt=0, le=300)
    vmx_audit_max_payload_bytes: int = Field(default=64 * 1024, ge=0)
    vmx_audit_write_timeout_seconds: float = Field(default=10.0, gt=0, le=300)  # slower: batches are spooled
    vmx_audit_retention_interval_seconds: float = Field(default=3600.0, gt=0)

    # Limits, timeouts and trust (DESIGN §11)
    vmx_upstream_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    vmx_upstream_read_timeout_seconds: float = Field(default=600.0, gt=0)
    vmx_max_management_body_bytes: int = Field(default=1024 * 1024, gt=0)
    vmx_max_json_depth: int = Field(default=64, ge=2, le=1000)
    vmx_api_key_cache_size: int = Field(default=100_000, ge=1)
    trusted_proxies: str = ""  # comma-separated CIDRs whose X-Forwarded-For is believed
    vmx_shutdown_grace_seconds: float = Field(default=30.0, ge=0)
    vmx_shutdown_drain_delay_seconds: float = Field(default=0.0, ge=0)  # readyz 503 before accepting stops
    # Slow clients: the request head, the whole body, and an idle keep-alive connection.
    vmx_header_read_timeout_seconds: float = Field(default=10.0, gt=0)
    vmx_body_read_timeout_seconds: float = Field(default=60.0, gt=0)
    vmx_keepalive_timeout_seconds: float = Field(default=5.0, gt=0)

    # Capacity and budgets (DESIGN §6, §10)
    capacity_on_redis_error: Literal["allow", "deny"] = "allow"
    vmx_budget_default_max_output_tokens: int = Field(default=4096, ge=1)

    # Batch completions (issue 14)
    batch_queue_visibility_timeout: int = Field(default=120_000, ge=100)  # ms a claimed item stays leased
    vmx_batch_max_items: int = Field(default=50_000, ge=1)
    vmx_batch_max_body_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    vmx_batch_workers: int = Field(default=16, ge=0)  # items one process runs at once; 0: no batch worker
    vmx_batch_concurrency_per_connection: int = Field(default=8, ge=1)
    vmx_batch_headroom_share: float = Field(default=0.5, gt=0, le=1)  # of each capacity limit batch work may use
    vmx_batch_poll_interval_seconds: float = Field(default=0.5, gt=0)
    vmx_batch_max_attempts: int = Field(default=5, ge=1)  # retryable failures (429, 5xx) before FAILED
    vmx_batch_callback_secret: str | None = None  # HMAC-SHA256 key of the callback signature
    vmx_batch_callback_allow_private: bool = False
    vmx_batch_callback_max_attempts: int = Field(default=5, ge=1)
    vmx_batch_callback_timeout_seconds: float = Field(default=10.0, gt=0)

    # Telemetry: the standard OTEL_* variables; OTEL_ENABLED is a shortcut for "export to the endpoint"
    otel_enabled: bool = False
    otel_sdk_disabled: bool = False
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_protocol: Literal["http/protobuf", "grpc"] = "http/protobuf"
    otel_service_name: str = "vmx"
    otel_resource_attributes: str = ""  # key=value,key=value
    otel_metric_export_interval: int = Field(default=60_000, gt=0)  # milliseconds, as the spec names it
    metrics_prometheus: bool = False  # GET /metrics in the Prometheus text format
    metrics_bearer_token: str | None = None  # when set, /metrics wants `Authorization: Bearer <token>`
    log_format: Literal["json", "pretty"] = "json"
    cors_allowed_origins: str = ""  # comma-separated origins allowed to call the APIs from a browser

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: str) -> str:
        parse_networks(value)  # raises ValueError naming the bad CIDR
        return value

    @field_validator("otel_exporter_otlp_protocol", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def otel_exporting(self) -> bool:
        """Traces and metrics leave the process over OTLP: OTEL_ENABLED or an endpoint, unless disabled."""
        return not self.otel_sdk_disabled and (self.otel_enabled or bool(self.otel_exporter_otlp_endpoint))

    @property
    def metrics_enabled(self) -> bool:
        return not self.otel_sdk_disabled and (self.otel_exporting or self.metrics_prometheus)

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_allowed_origins.split(",") if o.strip()]

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def is_embedded(self) -> bool:
        return self.database_url is None

    @property
    def sqlite_path(self) -> Path:
        return self.vmx_data_dir / "vmx.db"

    @property
    def sync_database_url(self) -> str:
        """URL for Alembic and sync tooling."""
        if self.database_url is None:
            return f"sqlite:///{self.sqlite_path}"
        return self.database_url.replace("+asyncpg", "+psycopg2").replace("+aiosqlite", "")

    @property
    def async_database_url(self) -> str:
        if self.database_url is None:
            return f"sqlite+aiosqlite:///{self.sqlite_path}"
        url = self.database_url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+asyncpg://" + url.split("://", 1)[1]
        return url

    @property
    def async_readonly_database_url(self) -> str:
        if self.database_ro_url:
            return Settings(database_url=self.database_ro_url).async_database_url
        return self.async_database_url

    @property
    def public_base_url(self) -> str:
        return (self.vmx_base_url or f"http://localhost:{self.vmx_port}").rstrip("/")

    @property
    def cookie_secure(self) -> bool:
        """Session cookies are Secure behind an https public URL, unless VMX_COOKIE_SECURE says otherwise."""
        if self.vmx_cookie_secure is not None:
            return self.vmx_cookie_secure
        return (self.vmx_base_url or "").lower().startswith("https://")

    @property
    def audit_spool_dir(self) -> Path:
        return self.vmx_data_dir / "audit-spool"

    @property
    def key_file(self) -> Path:
        return self.vmx_data_dir / "encryption.key"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_federated_issuer and self.oidc_federated_client_id)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Tests change the environment between app instances."""
    get_settings.cache_clear()
