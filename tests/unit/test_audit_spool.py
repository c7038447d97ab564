"""The audit writer's spool: batches go to disk while the database is down, come back in order exactly
once, torn records are set aside, other processes' spools are adopted, the queue stays empty."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from vmx_app.audit.spool import HEADER, AuditSpool
from vmx_app.audit.writer import AuditWriter


class FakeStore:
    """Rows keyed by id (column 0); `down` makes every call fail like an unreachable database."""

    def __init__(self) -> None:
        self.rows: dict[Any, tuple[Any, ...]] = {}
        self.order: list[Any] = []
        self.down = False
        self.fail_after_rows: int | None = None  # crash mid-replay: fail once this many rows are stored
        self.poison: set[Any] = set()

    async def write(self, rows: list[tuple[Any, ...]], *, idempotent: bool = False) -> None:
        if self.down or (self.fail_after_rows is not None and len(self.rows) >= self.fail_after_rows):
            raise ConnectionError("database down")
        if any(r[0] in self.poison for r in rows):
            raise ValueError("refused")
        for row in rows:
            if row[0] in self.rows:
                if not idempotent:
                    raise ValueError("duplicate id")
                continue
            self.rows[row[0]] = row
            self.order.append(row[0])

    def revive(self, row: list[Any]) -> tuple[Any, ...]:
        return tuple(row)

    async def ping(self) -> None:
        if self.down or self.fail_after_rows is not None:
            raise ConnectionError("database down")

    async def close(self) -> None:
        return None


def _writer(store: FakeStore, spool_dir: Path | None, **kw: Any) -> AuditWriter:
    return AuditWriter(store=store, spool_dir=spool_dir, batch_size=10, flush_interval_s=0.01,  # type: ignore[arg-type]
                       retry_interval_s=0.01, **kw)


def _put(writer: AuditWriter, first: int, count: int) -> None:
    for i in range(first, first + count):
        writer._put((f"id-{i:05d}", "payload", i), f"r{i}")


async def _until(check: Any, timeout_s: float = 5.0) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_an_outage_spools_and_the_replay_keeps_order_exactly_once(tmp_path: Path) -> None:
    store = FakeStore()
    writer = _writer(store, tmp_path)
    writer.start()
    _put(writer, 0, 25)
    await _until(lambda: len(store.rows) == 25)
    store.down = True
    _put(writer, 25, 50)
    await _until(lambda: not writer._rows)  # the queue drains to disk: memory stays flat
    assert writer.spool_bytes > 0 and len(store.rows) == 25
    store.down = False
    _put(writer, 75, 5)  # arrive while the spool still holds rows: they queue behind it
    await _until(lambda: len(store.rows) == 80)
    await _until(lambda: writer.spool_bytes == 0)
    assert store.order == [f"id-{i:05d}" for i in range(80)]
    await writer.stop()
    assert list(tmp_path.glob("spool-*.bin")) == []  # an empty spool is removed on the way out


async def test_a_crash_mid_replay_duplicates_nothing(tmp_path: Path) -> None:
    store = FakeStore()
    writer = _writer(store, tmp_path)
    store.down = True
    _put(writer, 0, 40)
    await writer.flush()  # four records on disk
    assert writer.spool_bytes > 0
    store.down, store.fail_after_rows = False, 20  # the database goes away again after two records
    assert await writer.replay() is False
    assert len(store.rows) == 20 and writer.spool_bytes > 0  # the spool is kept until all of it is in
    store.fail_after_rows = None
    assert await writer.replay() is True  # replays from the start: the first 20 are skipped by id
    assert store.order == [f"id-{i:05d}" for i in range(40)] and writer.spool_bytes == 0


async def test_stop_spools_the_queue_when_the_database_is_down(tmp_path: Path) -> None:
    store = FakeStore()
    store.down = True
    writer = _writer(store, tmp_path, write_timeout_s=0.5)
    writer.start()
    _put(writer, 0, 7)
    await writer.stop()
    [path] = tmp_path.glob("spool-*.bin")
    assert path.stat().st_size > 0
    # A new process adopts the spool of the one that is gone and writes it.
    store.down = False
    successor = _writer(store, tmp_path)
    successor.start()
    await _until(lambda: len(store.rows) == 7)
    await successor.stop()
    assert not path.exists()


async def test_without_a_spool_an_outage_keeps_rows_queued() -> None:
    store = FakeStore()
    store.down = True
    writer = _writer(store, None)
    _put(writer, 0, 3)
    with pytest.raises(ConnectionError):
        await writer.flush()
    assert len(writer._rows) == 3


async def test_poison_rows_are_dropped_while_the_database_is_up(tmp_path: Path) -> None:
    store = FakeStore()
    store.poison = {"id-00002"}
    writer = _writer(store, tmp_path)
    _put(writer, 0, 5)
    assert await writer.flush() == 4
    assert writer.dropped == 1 and writer.spool_bytes == 0  # a refused row is not an outage


async def test_a_slow_database_counts_as_down(tmp_path: Path) -> None:
    class Slow(FakeStore):
        async def write(self, rows: list[tuple[Any, ...]], *, idempotent: bool = False) -> None:
            await asyncio.sleep(5)

        async def ping(self) -> None:
            await asyncio.sleep(5)

    writer = _writer(Slow(), tmp_path, write_timeout_s=0.05)
    _put(writer, 0, 3)
    await writer.flush()
    assert writer.spool_bytes > 0 and not writer._rows


def test_a_torn_record_is_set_aside_and_the_rest_replays(tmp_path: Path) -> None:
    spool = AuditSpool(tmp_path / "spool-1.bin")
    spool.append([("a", 1)])
    spool.append([("b", 2)])
    with (tmp_path / "spool-1.bin").open("ab") as f:
        f.write(HEADER.pack(b"VMXS", 1000, 0) + b"half a record")  # a crash mid-append
    spool = AuditSpool(tmp_path / "spool-1.bin")
    first = spool.read_at(0)
    assert first is not None and first[0] == [["a", 1]]
    second = spool.read_at(first[1])
    assert second is not None and second[0] == [["b", 2]]
    assert spool.read_at(second[1]) is None
    assert spool.size_bytes == second[1] == os.path.getsize(tmp_path / "spool-1.bin")
    [aside] = tmp_path.glob("spool-1.bin.damaged-*")
    assert aside.read_bytes().endswith(b"half a record")


def test_a_live_process_keeps_its_spool(tmp_path: Path) -> None:
    held = AuditSpool(tmp_path / "spool-9.bin")
    assert held.try_lock()
    assert not AuditSpool(tmp_path / "spool-9.bin").try_lock()  # flock: another writer cannot adopt it
    held.release()
    assert AuditSpool(tmp_path / "spool-9.bin").try_lock()
