"""The three-node cluster's settings (issue 22), without starting anything: what each node is told, what our topics
get, and that a write's wait for the brokers is bounded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka.errors import KafkaTimeoutError

import api.publisher
from laowu.settings import Settings
from laowu.stack.kafka import KafkaNode
from laowu.stack.launcher import Layout, catalogue_specs, kafka_process_name
from schemas.topics import CATALOGUE


def _node(tmp_path: Path, **kw: object) -> KafkaNode:
    return KafkaNode(tmp_path / "k", port=9092, controller_port=9093, lib_dir=tmp_path, java="java", **kw)  # type: ignore[arg-type]


def test_a_single_node_is_as_before(tmp_path: Path) -> None:
    props = _node(tmp_path).server_properties()
    assert props["node.id"] == "1" and props["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093"
    assert "controller.quorum.voters" not in props and "min.insync.replicas" not in props
    assert props["offsets.topic.replication.factor"] == props["default.replication.factor"] == "1"
    assert Settings(env="test").kafka_brokers == 1 and kafka_process_name(1, 1) == "kafka"
    assert Layout.of(tmp_path).kafka_node_dir(1, 1) == Layout.of(tmp_path).kafka_dir


def test_a_quorum_node_knows_every_voter_and_replicates_internal_topics(tmp_path: Path) -> None:
    voters = {1: 9093, 2: 9193, 3: 9293}
    node = KafkaNode(tmp_path / "n2", port=9192, controller_port=9193, lib_dir=tmp_path, java="java", node_id=2,
                     voters=voters, replication=3, min_insync=2, preset_cluster_id="abc")
    props = node.server_properties()
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293"
    assert "controller.quorum.bootstrap.servers" not in props
    assert props["offsets.topic.replication.factor"] == props["transaction.state.log.replication.factor"] == "3"
    assert props["transaction.state.log.min.isr"] == props["min.insync.replicas"] == "2"
    assert props["unclean.leader.election.enable"] == "false"
    assert node.cluster_id() == "abc"  # the shared id, not one of its own
    with pytest.raises(ValueError, match="not among the voters"):
        KafkaNode(tmp_path / "x", port=1, controller_port=2, lib_dir=tmp_path, java="java", voters=voters)
    with pytest.raises(ValueError, match="do not fit"):
        _node(tmp_path, replication=3)


@pytest.mark.parametrize(("brokers", "replication", "insync"), [(1, 1, 1), (2, 2, 1), (3, 3, 2), (5, 3, 2)])
def test_our_topics_follow_the_cluster(brokers: int, replication: int, insync: int) -> None:
    settings = Settings(env="test", kafka_brokers=brokers, topic_prefix="p.")
    specs = catalogue_specs(settings)
    assert [s.name for s in specs] == [f"p.{t.name}" for t in CATALOGUE]
    assert {s.replication for s in specs} == {replication}
    assert {s.config["min.insync.replicas"] for s in specs} == {str(insync)}
    assert all(s.config["retention.ms"] == t.kafka_config()["retention.ms"] for s, t in zip(specs, CATALOGUE, strict=True))


def test_the_streams_app_replicates_as_the_cluster(tmp_path: Path) -> None:
    from streams.app import create_app

    settings = Settings(env="test", kafka_brokers=3, kafka_bootstrap="127.0.0.1:1", home=tmp_path,
                        database_url="postgresql://x@127.0.0.1:1/x")
    assert create_app(settings).conf.topic_replication_factor == 3


async def test_a_write_waits_for_the_brokers_a_bounded_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The idempotent producer retries a batch for ever while no leader takes it: the API answers 503 instead."""
    monkeypatch.setattr(api.publisher, "ACK_WAIT_S", 0.05)
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    with pytest.raises(KafkaTimeoutError, match="no acknowledgement"):
        await api.publisher._acknowledged(never)
    assert not never.cancelled()  # the records stay with the producer, which delivers them when a leader is back
    never.set_result(None)
    await api.publisher._acknowledged(asyncio.sleep(0))  # an acknowledged write passes


def test_laowu_up_takes_the_cluster_size(monkeypatch: pytest.MonkeyPatch) -> None:
    import laowu.cli

    seen: list[int] = []

    class FakeStack:
        def __init__(self, settings: Settings, demo: bool = False) -> None:
            seen.append(settings.kafka_brokers)

        def up(self) -> int:
            return 0

    monkeypatch.setattr(laowu.cli, "_stack", FakeStack)
    monkeypatch.delenv("LAOWU_KAFKA_BROKERS", raising=False)
    assert laowu.cli.main(["up", "--brokers", "3"]) == 0
    assert laowu.cli.main(["up"]) == 0
    assert seen == [3, 1]
    with pytest.raises(SystemExit):
        laowu.cli.main(["up", "--brokers", "0"])
