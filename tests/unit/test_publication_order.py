"""The ledger consumer applies messages in publication order across partitions and topics (``consumers.base``)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition

from consumers.base import BatchConsumer, publication_order, release
from laowu.settings import Settings

W0, W1, D0 = TopicPartition("workers", 0), TopicPartition("workers", 1), TopicPartition("dispatches", 0)


@dataclass(frozen=True)
class Msg:
    offset: int
    timestamp: int
    name: str = ""


def test_nothing_later_than_the_horizon_is_released() -> None:
    held = {W0: [Msg(0, 10, "end"), Msg(1, 30)], D0: [Msg(0, 20, "dispatch")]}
    # workers/0 is known only up to 10: the dispatch published at 20 waits for it
    assert release(held, 10, 100) == {W0: [held[W0][0]]}
    assert release(held, 25, 100) == {W0: [held[W0][0]], D0: held[D0]}
    assert release(held, math.inf, 100) == held
    assert release(held, -math.inf, 100) == {}


def test_a_partitions_own_order_is_kept_even_when_its_timestamps_are_not_monotonic() -> None:
    # two API replicas with slightly different clocks wrote to one partition: offset order stands
    held = {W0: [Msg(0, 15), Msg(1, 12), Msg(2, 40)]}
    assert release(held, 20, 100) == {W0: held[W0][:2]}
    assert release({W0: [Msg(0, 30), Msg(1, 12)]}, 20, 100) == {}  # 12 never overtakes the message before it


def test_the_limit_takes_the_earliest_published_across_partitions() -> None:
    held = {W0: [Msg(0, 1), Msg(1, 5), Msg(2, 9)], W1: [Msg(0, 2), Msg(1, 3)], D0: [Msg(0, 4)]}
    taken = release(held, math.inf, 4)
    assert {tp: [m.offset for m in msgs] for tp, msgs in taken.items()} == {W0: [0], W1: [0, 1], D0: [0]}


def test_a_batch_is_decided_in_publication_order() -> None:
    records = {W0: [Msg(0, 10, "registered"), Msg(1, 50, "ended")], D0: [Msg(0, 20, "dispatch"), Msg(1, 60, "again")]}
    assert [m.name for m in publication_order(records)] == ["registered", "dispatch", "ended", "again"]


class Client:
    """The parts of aiokafka's consumer the loop asks, asserting as aiokafka does on a partition no longer
    assigned; a rebalance (``revoke``) may run while the loop awaits ``position`` — as it does beside the loop."""

    def __init__(self, owner: Any, assigned: set[TopicPartition], ends: dict[TopicPartition, int]) -> None:
        self.owner, self.assigned, self.ends = owner, set(assigned), ends
        self.revoke_while_asked = False  # the first position() asked loses the *other* partition meanwhile
        self.fetches: list[dict[TopicPartition, list[Msg]]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def highwater(self, tp: TopicPartition) -> int:
        assert tp in self.assigned, "No current assignment for partition"
        return self.ends[tp]

    async def position(self, tp: TopicPartition) -> int:
        if self.revoke_while_asked:
            self.revoke_while_asked = False
            gone = self.assigned - {tp}
            self.assigned -= gone
            self.owner.forget(gone)  # what _SeekToStored.on_partitions_revoked does
        assert tp in self.assigned, "No current assignment for partition"
        return 0

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Msg]]:
        if not self.fetches:
            self.owner._stopping.set()
            return {}
        return self.fetches.pop(0)


class Loop(BatchConsumer):
    topics = ("workers", "dispatches")

    def __init__(self) -> None:
        super().__init__(Settings(), None, None)  # type: ignore[arg-type]
        self.applied_batches: list[dict[TopicPartition, list[Msg]]] = []

    async def apply_batch(self, conn: Any, records: Any) -> int:
        raise AssertionError("not reached: _apply_or_bisect is replaced")

    async def _apply_or_bisect(self, records: Any) -> None:
        self.applied_batches.append(records)

    async def _commit_to_kafka(self, records: Any) -> None:
        return None


def test_a_partition_revoked_while_the_loop_asks_the_client_does_not_stop_the_consumer() -> None:
    """`make bench` (two replicas, dispatch segment) stopped a consumer on the assertion of a partition revoked in
    the middle of its loop (330ce25): the horizon, the lag metric and the held messages must all take it."""
    loop = Loop()
    client = Client(loop, {W0, D0}, {W0: 5, D0: 5})
    loop.consumer = client  # type: ignore[assignment]
    client.fetches = [{W0: [Msg(0, 10, "registered")], D0: [Msg(0, 20, "dispatch")]}]
    client.revoke_while_asked = True  # the rebalance lands while the horizon asks the first position
    asyncio.run(loop.run())
    # The lost partition went to another replica with its held message (its new owner reads it again from the
    # stored offsets); the kept one's message is applied, and nothing is left held for the lost one.
    (kept,) = client.assigned
    lost = ({W0, D0} - {kept}).pop()
    name = {W0: "registered", D0: "dispatch"}
    assert [{tp: [m.name for m in msgs] for tp, msgs in b.items()} for b in loop.applied_batches] == [{kept: [name[kept]]}]
    assert lost not in loop._held and lost not in loop._next and lost not in loop._seen


def test_the_lag_of_a_revoked_partition_is_not_asked() -> None:
    loop = Loop()
    client = Client(loop, {W0}, {W0: 5, D0: 9})
    loop.consumer = client  # type: ignore[assignment]
    asyncio.run(loop._measure_lag([W0, D0]))  # D0 was in the batch, then revoked: no assertion, no stop
