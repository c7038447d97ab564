"""Start-up refusals: each configuration error as one line naming the variable and the fix, never a
traceback; and a database schema older than the code is not served (the command to run is named)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import ValidationError

from vmx_app.settings import Settings


class StartupRefused(RuntimeError):
    """Raised with every problem found; `vmx` prints one line per problem and exits 2."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _url(value: str | None, schemes: tuple[str, ...]) -> bool:
    if value is None:
        return True
    parts = urlsplit(value)
    scheme = parts.scheme.split("+", 1)[0]
    return scheme in schemes and (bool(parts.netloc) or scheme in ("sqlite", "unix"))


_URLS = (  # setting, accepted schemes, example
    ("database_url", ("postgresql", "postgres", "sqlite"), "postgresql://user:password@host:5432/vmx"),
    ("database_ro_url", ("postgresql", "postgres"), "postgresql://user:password@replica:5432/vmx"),
    ("redis_url", ("redis", "rediss", "unix"), "redis://host:6379/0"),
    ("vmx_base_url", ("http", "https"), "https://vmx.example.com"),
    ("otel_exporter_otlp_endpoint", ("http", "https"), "http://otel-collector:4318"),
    ("oidc_federated_issuer", ("http", "https"), "https://login.example.com/realms/vmx"),
)


def settings_problems(settings: Settings, workers: int = 1) -> list[str]:
    problems = []
    for name, schemes, example in _URLS:
        value = getattr(settings, name)
        if not _url(value, schemes):
            problems.append(f"{name.upper()}: {value!r} is not a {'/'.join(schemes)} URL; set it like {example}")
    if settings.encryption_provider == "aws-kms" and not settings.aws_kms_key_id:
        problems.append("AWS_KMS_KEY_ID: ENCRYPTION_PROVIDER=aws-kms needs the KMS key id or ARN "
                        "(e.g. arn:aws:kms:us-east-1:123456789012:key/...), or use ENCRYPTION_PROVIDER=libsodium")
    oidc = {"OIDC_FEDERATED_ISSUER": settings.oidc_federated_issuer,
            "OIDC_FEDERATED_CLIENT_ID": settings.oidc_federated_client_id,
            "OIDC_FEDERATED_CLIENT_SECRET": settings.oidc_federated_client_secret}
    if any(oidc.values()):
        for name in ("OIDC_FEDERATED_ISSUER", "OIDC_FEDERATED_CLIENT_ID"):
            if not oidc[name]:
                problems.append(f"{name}: OIDC login is half-configured; set {name} too, or unset every "
                                "OIDC_FEDERATED_* variable to use password login only")
    if workers > 1 and settings.redis_url is None:
        problems.append(f"REDIS_URL: {workers} workers need shared counters; set REDIS_URL (redis://host:6379/0) "
                        "or run one worker in the embedded profile")
    if settings.database_ro_url and settings.is_embedded:
        problems.append("DATABASE_RO_URL: a read replica needs DATABASE_URL (the primary) set as well")
    for origin in settings.cors_origins:
        if origin != "*" and not _url(origin, ("http", "https")):
            problems.append(f"CORS_ALLOWED_ORIGINS: {origin!r} is not an origin; list them like "
                            "https://app.example.com,http://localhost:5173")
    return problems


def validation_problems(error: ValidationError) -> list[str]:
    """pydantic's errors as `VARIABLE: message` lines."""
    out = []
    for item in error.errors():
        name = str(item["loc"][0]).upper() if item["loc"] else "settings"
        value = item.get("input")
        out.append(f"{name}: {item['msg']} (got {value!r})")
    return out


def load_settings(workers: int = 1) -> Settings:
    """The settings, or StartupRefused listing every problem."""
    from vmx_app.settings import get_settings

    try:
        settings = get_settings()
    except ValidationError as exc:
        raise StartupRefused(validation_problems(exc)) from None
    problems = settings_problems(settings, workers)
    if problems:
        raise StartupRefused(problems)
    return settings


def schema_problems(current: str | None, head: str | None, known: set[str]) -> list[str]:
    """A database behind the code is refused; one ahead (a newer migration, a rolling update) is served."""
    if current == head:
        return []
    if current is None:
        return ["database: the schema is not created; run `vmx migrate` (or start without --no-migrate)"]
    if current in known:
        return [f"database: the schema is at revision {current}, older than this code's {head}; "
                "run `vmx migrate` first"]
    return []


def _unreachable(variable: str, what: str, exc: BaseException) -> str:
    first = (str(exc).splitlines() or [""])[0][:200]
    return f"{variable}: cannot reach {what} ({type(exc).__name__}: {first}); check the URL and that it is up"


def check_dependencies(settings: Settings, *, migrate: bool) -> None:
    """Before traffic: the database reachable and its schema at head (migrated here unless `migrate` is
    False, then refused when older than the code), Redis reachable when configured."""
    from vmx_app.migrations import current_revision, head_revision, known_revisions, upgrade_to_head

    problems: list[str] = []
    try:
        if migrate:
            upgrade_to_head(settings)
        else:
            problems += schema_problems(current_revision(settings), head_revision(), known_revisions())
    except Exception as exc:  # noqa: BLE001 - any driver error: one line, not a traceback
        problems.append(_unreachable("DATABASE_URL", "the database", exc))
    if settings.redis_url:
        try:
            _ping_redis(settings)
        except Exception as exc:  # noqa: BLE001
            problems.append(_unreachable("REDIS_URL", "Redis", exc))
    if problems:
        raise StartupRefused(problems)


def _ping_redis(settings: Settings) -> None:
    from redis import Redis, RedisCluster

    assert settings.redis_url is not None
    kind = RedisCluster if settings.redis_mode == "cluster" else Redis
    client = kind.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    finally:
        client.close()
