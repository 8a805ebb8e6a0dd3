"""Our producers' partitioner must place every key where Kafka's default partitioner (Java, aiokafka, faust) does."""

from __future__ import annotations

import random

from aiokafka.partitioner import DefaultPartitioner

from laowu.publish import PARTITIONER


def test_same_partition_as_kafkas_default_for_every_key() -> None:
    rng = random.Random(7)
    keys = [f"w{rng.getrandbits(96):024x}".encode() for _ in range(3_000)]
    keys += [rng.randbytes(rng.randrange(0, 64)) for _ in range(3_000)]  # every tail length, empty key included
    keys += ["琼海市-椰嫂".encode(), b"\xff" * 7, b"dsp-0001"]
    reference = DefaultPartitioner()
    for n in (1, 2, 3, 6, 7, 12, 64):
        partitions = list(range(n))
        mismatched = [k for k in keys if PARTITIONER(k, partitions, partitions) != reference(k, partitions, partitions)]
        assert mismatched == [], f"{len(mismatched)} keys placed differently over {n} partitions, e.g. {mismatched[:3]}"


def test_a_key_without_value_goes_to_an_available_partition() -> None:
    assert PARTITIONER(None, [0, 1, 2, 3], [2]) == 2
    assert PARTITIONER(None, [0, 1, 2], []) in (0, 1, 2)
