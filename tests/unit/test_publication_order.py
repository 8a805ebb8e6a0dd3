"""The ledger consumer applies messages in publication order across partitions and topics (``consumers.base``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aiokafka import TopicPartition

from consumers.base import publication_order, release

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
