"""Start-up and shutdown of one VM-X process (Reflex-hosted or gateway-only)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from vmx_app import shutdown
from vmx_app.db import dispose_engines
from vmx_app.redis_client import close_redis
from vmx_app.settings import get_settings

log = logging.getLogger("vmx")


# Measured with bench/run.py (2 cores, one worker): at the default threshold (700) the collector ran
# hundreds of times a second over every long-lived object, stalling the loop (1-connection p99 41 ms);
# freezing what start-up built and collecting the young generation less often gave p99 6 ms and +25 %
# requests/s, with RSS still well under the 250 MB budget.
GC_THRESHOLDS = (20_000, 50, 100)


def configure_logging() -> None:
    """VM-X's own loggers (`vmx.*`) to stderr at LOG_LEVEL as JSON lines (LOG_FORMAT=pretty for a terminal);
    idempotent (Reflex may import twice)."""
    from vmx_app.observability.logs import formatter

    settings = get_settings()
    logger = logging.getLogger("vmx")
    handler = next((h for h in logger.handlers if getattr(h, "vmx_handler", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.vmx_handler = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False  # the root logger (uvicorn's, Reflex's) would print it twice
    handler.setFormatter(formatter(settings.log_format))
    logger.setLevel(settings.log_level.upper())


def tune_gc() -> None:
    """Move everything built at start-up out of the collector's sight, and collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@asynccontextmanager
async def lifespan(console: bool = True) -> AsyncIterator[None]:
    from vmx_app.audit.writer import get_audit_writer
    from vmx_app.gateway.adapters import close_all
    from vmx_app.services import audit_retention, config_events
    from vmx_app.services.batch_worker import start_batch_worker, stop_batch_worker
    from vmx_app.services.bootstrap import bootstrap
    from vmx_app.services.error_rates_shared import SharedErrorRates
    from vmx_app.services.gateway_runtime import get_engine
    from vmx_app.services.runtime_gauges import register_runtime_gauges
    from vmx_app.telemetry import configure_telemetry, shutdown_telemetry

    configure_logging()
    register_runtime_gauges()
    configure_telemetry()  # OTEL_* variables: traces and metrics over OTLP, metrics for GET /metrics
    await bootstrap(console=console)  # prints where to sign in
    audit_writer = get_audit_writer()
    audit_writer.start()
    # Hears other processes' configuration changes (Redis pub/sub) and invalidates the config cache.
    background = [asyncio.create_task(config_events.listen(), name="vmx-config-events")]
    background.append(asyncio.create_task(audit_retention.run(get_settings().vmx_audit_retention_interval_seconds),
                                          name="vmx-audit-retention"))
    error_rates = get_engine().deps.error_rates
    if isinstance(error_rates, SharedErrorRates):  # production: errorRate counters synced through Redis
        background.append(asyncio.create_task(error_rates.run(), name="vmx-error-rate-sync"))
    batch_worker = start_batch_worker()  # batch completions: claims queued items (issue 14)
    tune_gc()
    shutdown.reset()
    shutdown.install_drain_handlers(get_settings().vmx_shutdown_drain_delay_seconds)  # readyz 503 first
    try:
        yield
    finally:
        await stop_batch_worker()  # items in flight finish (or are retaken after their lease)
        if batch_worker is not None:
            background.append(batch_worker)
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await config_events.close()
        await audit_writer.stop()  # nothing queued is lost on SIGTERM
        await get_engine().deps.gate.flush()  # token and cost corrections still queued
        await close_all()  # the provider clients (count_tokens' too): their pooled connections end cleanly
        shutdown_telemetry()
        await close_redis()
        await dispose_engines()
