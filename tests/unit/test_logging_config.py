"""LOG_LEVEL reaches VM-X's loggers, once, without duplicating lines through the root logger."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from vmx_app.lifecycle import configure_logging
from vmx_app.settings import get_settings, reset_settings


@pytest.fixture
def vmx_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("vmx")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    # A lifespan run in-process by an earlier test leaves its handler, bound to that test's stderr.
    logger.handlers[:] = [h for h in logger.handlers if not getattr(h, "vmx_handler", False)]
    yield logger
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]
    reset_settings()


def test_log_level_applies_to_every_vmx_logger(vmx_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LOG_LEVEL", "warning")
    reset_settings()
    assert get_settings().log_level == "WARNING"
    configure_logging()
    configure_logging()  # idempotent
    assert len([h for h in vmx_logger.handlers if getattr(h, "vmx_handler", False)]) == 1
    logging.getLogger("vmx.gateway").info("quiet line")
    logging.getLogger("vmx.gateway").warning("loud line")
    err = capsys.readouterr().err
    assert "loud line" in err and "quiet line" not in err and err.count("loud line") == 1
