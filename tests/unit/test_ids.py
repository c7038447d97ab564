"""Pooled request ids are valid, distinct UUIDv4s, across pool refills."""

from __future__ import annotations

import time
import uuid

from vmx_app.gateway.ids import Uuid7Pool, UuidPool, new_request_id


def test_pooled_ids_are_distinct_v4_uuids_across_refills() -> None:
    pool = UuidPool()
    ids = [pool.next() for _ in range(10_000)]  # more than two reads of the pool
    assert len(set(ids)) == len(ids)
    assert all(i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)


def test_request_ids_are_uuid_strings() -> None:
    first, second = new_request_id(), new_request_id()
    assert first != second and str(uuid.UUID(first)) == first


def test_v7_ids_are_distinct_and_ordered_by_millisecond() -> None:
    pool = Uuid7Pool()
    ids = [pool.next() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    stamps = [i.int >> 80 for i in ids]
    assert stamps == sorted(stamps) and abs(stamps[-1] - time.time_ns() // 1_000_000) < 5_000
