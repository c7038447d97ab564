"""Start-up and shutdown of one VM-X process (Reflex-hosted or gateway-only)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from vmx_app.db import dispose_engines
from vmx_app.redis_client import close_redis
from vmx_app.settings import get_settings

log = logging.getLogger("vmx")


class StartupRefused(RuntimeError):
    pass


def check_profile(workers: int) -> None:
    """More than one worker without Redis would split the in-process counters (DESIGN §1)."""
    if workers > 1 and get_settings().redis_url is None:
        raise StartupRefused(
            f"{workers} workers need shared counters: set REDIS_URL (redis://host:6379/0) "
            "or run with one worker in the embedded profile."
        )


# Measured with bench/run.py (2 cores, one worker): at the default threshold (700) the collector ran
# hundreds of times a second over every long-lived object, stalling the loop (1-connection p99 41 ms);
# freezing what start-up built and collecting the young generation less often gave p99 6 ms and +25 %
# requests/s, with RSS still well under the 250 MB budget.
GC_THRESHOLDS = (20_000, 50, 100)


def configure_logging() -> None:
    """VM-X's own loggers (`vmx.*`) to stderr at LOG_LEVEL; idempotent (Reflex may import twice)."""
    logger = logging.getLogger("vmx")
    if not any(getattr(h, "vmx_handler", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.vmx_handler = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False  # the root logger (uvicorn's, Reflex's) would print it twice
    logger.setLevel(get_settings().log_level.upper())


def tune_gc() -> None:
    """Move everything built at start-up out of the collector's sight, and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@asynccontextmanager
async def lifespan(console: bool = True) -> AsyncIterator[None]:
    from vmx_app.audit.writer import get_audit_writer
    from vmx_app.gateway.adapters import close_all
    from vmx_app.services import config_events
    from vmx_app.services.bootstrap import bootstrap
    from vmx_app.services.error_rates_shared import SharedErrorRates
    from vmx_app.services.gateway_runtime import get_engine
    from vmx_app.telemetry import configure_tracing, shutdown_tracing

    configure_logging()
    configure_tracing()  # OTEL_ENABLED: spans to OTEL_EXPORTER_OTLP_ENDPOINT (OTLP over HTTP)
    await bootstrap(console=console)  # prints where to sign in
    audit_writer = get_audit_writer()
    audit_writer.start()
    # Hears other processes' configuration changes (Redis pub/sub) and invalidates the config cache.
    background = [asyncio.create_task(config_events.listen(), name="vmx-config-events")]
    error_rates = get_engine().deps.error_rates
    if isinstance(error_rates, SharedErrorRates):  # production: errorRate counters synced through Redis
        background.append(asyncio.create_task(error_rates.run(), name="vmx-error-rate-sync"))
    tune_gc()
    try:
        yield
    finally:
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await config_events.close()
        await audit_writer.stop()  # nothing queued is lost on SIGTERM
        await close_all()  # the provider clients (count_tokens' too): their pooled connections end cleanly
        shutdown_tracing()
        await close_redis()
        await dispose_engines()
