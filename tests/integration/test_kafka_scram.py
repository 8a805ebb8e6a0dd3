"""Kafka with authentication: the local broker started by the launcher with a SASL/SCRAM-SHA-512 listener.

With the right credentials our real code paths work end to end (the API's publisher, the ledger consumer,
the faust statistics worker, topic creation, the recount); without credentials, or with a wrong password, a
client of ours gets nothing from the broker. Its own broker and PostgreSQL, on free ports in a temporary
directory (the session's PLAINTEXT broker is not used).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka.errors import KafkaError

from api.publisher import Publisher
from consumers.ledger import LedgerConsumer
from consumers.runner import _producer
from laowu import kafka_security
from laowu.kafka_security import KafkaSecurity
from laowu.privacy import Privacy
from laowu.settings import Settings
from laowu.stack.launcher import InfraHandle, start_infra
from schemas.topics import WORKERS

from conftest import running_ledger, serving, spawn_ours, stack_home
from helpers import bearer, person, wait_receipt
from workload import converge, stop

pytestmark = [pytest.mark.services, pytest.mark.timeout(180)]

USER, PASSWORD = "laowu-app", "app-Pa55.word-" + uuid.uuid4().hex[:8]
BRAND = {"brand_id": "scram-brand", "name": "认证品牌", "region_code": "469005", "category": "service",
         "level": "municipal", "industry": "特色餐饮", "occupation_code": "4-03-02-01"}


def _settings(home: Path, **extra: object) -> Settings:
    values: dict[str, object] = dict(
        env="test", home=home, kafka_bootstrap=None, database_url=None, topic_prefix="scram.", consumer_poll_ms=50,
        kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username=USER, kafka_sasl_password=PASSWORD,
    )
    return Settings(**(values | extra))


@pytest.fixture(scope="module")
def scram(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, InfraHandle]]:
    """Kafka (SCRAM listener, our user made at format time) and PostgreSQL, migrated, the catalogue's topics
    created through the SCRAM listener: exactly what ``laowu up`` does with these settings."""
    with stack_home(tmp_path_factory, "scram") as home:
        settings = _settings(home)
        handle = asyncio.run(start_infra(home, settings, migrate=True, topics=True, die_with_parent=True))
        try:
            assert handle.kafka is not None and handle.kafka.listener == "SASL_PLAINTEXT"
            yield settings.model_copy(update={"kafka_bootstrap": handle.bootstrap, "database_url": handle.dsn}), handle
        finally:
            handle.stop()


def _as(settings: Settings, **security: object) -> Settings:
    return Settings(**(settings.model_dump(by_alias=False) | security))


@pytest.fixture
async def api(scram: tuple[Settings, InfraHandle]) -> AsyncIterator[httpx.AsyncClient]:
    settings, _ = scram
    async with serving(settings) as url, httpx.AsyncClient(
        base_url=url, timeout=30, headers=bearer("admin", "laowu-ops", settings=settings)
    ) as client:
        yield client


async def test_the_api_and_the_ledger_work_over_scram(scram: tuple[Settings, InfraHandle],
                                                      api: httpx.AsyncClient, tmp_path: Path) -> None:
    settings, _ = scram
    async with running_ledger(settings):
        r = await api.post("/v1/brands", json=BRAND)
        assert r.status_code == 202, r.text
        assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
        body = person(1) | {"brand_ids": [BRAND["brand_id"]]}
        r = await api.post("/v1/workers", json=body,
                           headers=bearer("workstation", body["workstation_id"], body["household_region"], settings))
        assert r.status_code == 202, r.text
        assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
        assert (await api.get("/readyz")).status_code == 200  # its Kafka check authenticates too

        # The faust statistics worker, a process of its own configured only through the environment (the SCRAM
        # settings among it: laowu.stack.processes.child_env writes every setting of ``settings`` into it).
        worker = spawn_ours(["streams", "worker"], settings, tmp_path / "streams.log", LAOWU_HOME=str(tmp_path))
        try:
            report = await converge(settings, timeout=60, worker=worker)
            assert report.consistent_cut and not report.drift and report.kafka_lag == 0, (
                report.as_dict(), (tmp_path / "streams.log").read_text()[-3000:])
            assert report.cells > 0  # the worker counted the registration: it read the topic over SCRAM
        finally:
            stop(worker)


@pytest.mark.parametrize("security", [
    {"kafka_security_protocol": "PLAINTEXT", "kafka_sasl_username": None, "kafka_sasl_password": None},
    {"kafka_sasl_password": "wrong-password"},
    {"kafka_sasl_username": "nobody"},
    {"kafka_sasl_mechanism": "SCRAM-SHA-256"},  # the user exists for SHA-512 only
], ids=["no-credentials", "wrong-password", "unknown-user", "other-mechanism"])
async def test_a_client_without_the_right_credentials_is_refused(scram: tuple[Settings, InfraHandle],
                                                                 security: dict[str, object]) -> None:
    settings, _ = scram
    intruder = _as(settings, **security)
    topic = settings.topic(WORKERS.name)

    publisher = Publisher(intruder, pool=None)  # type: ignore[arg-type]
    with pytest.raises((KafkaError, OSError)):
        await asyncio.wait_for(publisher.start(), 30)
    await publisher.stop()

    producer = _producer(intruder)  # the consumers' producer (dead letters, the outbox relay)
    with pytest.raises((KafkaError, OSError)):
        await asyncio.wait_for(producer.start(), 30)
    await producer.stop()

    ledger = LedgerConsumer(intruder, None, None, privacy=Privacy(intruder))  # type: ignore[arg-type]
    with pytest.raises((KafkaError, OSError)):  # its group consumer gets no metadata, no records
        await asyncio.wait_for(ledger.start(), 30)
    assert ledger.consumer is not None
    await ledger.consumer.stop()

    # The same broker answers the right credentials at once: the refusal was about the credentials.
    admin = kafka_security.admin(KafkaSecurity.from_settings(settings), bootstrap=settings.kafka_bootstrap)
    await admin.start()
    try:
        assert topic in await admin.list_topics()
    finally:
        await admin.close()


def test_a_broker_formatted_with_other_users_refuses_to_start_silently_with_the_old_ones(tmp_path: Path) -> None:
    """SCRAM users are made at format time only: asking for others later is an error, not a quiet no-op."""
    from laowu.stack.kafka import KafkaNode, ensure_kafka_jars
    from laowu.stack.launcher import POM

    lib = ensure_kafka_jars(Settings(env="test").kafka_cache, POM)
    node = KafkaNode(tmp_path, port=1, controller_port=2, lib_dir=lib, scram_users={USER: PASSWORD})
    node.write_config()
    node.format_storage()
    node.format_storage()  # the same users: nothing to do
    for other in ({USER: "another-password"}, {}):
        with pytest.raises(RuntimeError, match="formatted with other SCRAM users"):
            KafkaNode(tmp_path, port=1, controller_port=2, lib_dir=lib, scram_users=other).format_storage()
