"""Kafka security settings: validated at start-up, applied to every client of ours, never shown.

The structural test at the bottom walks the code: an aiokafka client constructed anywhere but
``laowu/kafka_security.py`` (which always applies the settings) fails it, so a new client cannot forget them.
"""

from __future__ import annotations

import ast
import base64
import ssl
from pathlib import Path
from typing import Any

import certifi
import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from laowu import kafka_security
from laowu.kafka_security import KafkaSecurity, client_options
from laowu.settings import DEV_KAFKA_SASL_PASSWORD, Settings
from laowu.stack.kafka import BROKER_USER, KafkaNode
from laowu.stack.launcher import Stack, local_kafka_auth
from streams.app import create_app

REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cret-Pa55word"

# Real-looking production secrets (strong keys), so that only the Kafka settings decide.
PRODUCTION = {"LAOWU_ENV": "production", "LAOWU_WORKER_ID_KEY": "w" * 48,
              "LAOWU_ENCRYPTION_KEYS": "k1:" + base64.b64encode(bytes(range(32))).decode(),
              "LAOWU_TOKEN_KEYS": "t1:" + "t" * 48}
SASL = {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "laowu", "KAFKA_SASL_PASSWORD": SECRET}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    """Settings read from the environment, as every process reads them, under the documented names."""
    kafka = ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD",
             "KAFKA_SSL_CAFILE", "KAFKA_SSL_CERTFILE", "KAFKA_SSL_KEYFILE", "KAFKA_ALLOW_PLAINTEXT")
    names = (*kafka, *(f"LAOWU_{n}" for n in kafka), "LAOWU_ENV", "LAOWU_HOME", "LAOWU_WORKER_ID_KEY",
             "LAOWU_ENCRYPTION_KEYS", "LAOWU_TOKEN_KEYS")

    def make(**values: str) -> Settings:
        for name in names:  # each call starts from an environment without them
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return Settings(kafka_bootstrap="127.0.0.1:9", database_url="postgresql://u@127.0.0.1:9/x")

    return make


# ---- settings ----------------------------------------------------------------------------------------


def test_the_default_stays_plaintext_for_the_local_stack(env) -> None:
    assert client_options(env()) == {"security_protocol": "PLAINTEXT"}
    empty = env(KAFKA_SASL_USERNAME="", KAFKA_SASL_PASSWORD="", KAFKA_SSL_CAFILE="")  # as an env file leaves them
    assert client_options(empty) == {"security_protocol": "PLAINTEXT"}


def test_sasl_scram_from_the_environment(env) -> None:
    settings = env(**SASL)
    assert client_options(settings) == {
        "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "laowu", "sasl_plain_password": SECRET,
    }
    assert client_options(env(**SASL, KAFKA_SASL_MECHANISM="SCRAM-SHA-256"))["sasl_mechanism"] == "SCRAM-SHA-256"


@pytest.mark.parametrize(("values", "says"), [
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_PASSWORD": SECRET}, "needs KAFKA_SASL_USERNAME"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_USERNAME": "laowu"}, "needs KAFKA_SASL_PASSWORD"),
    ({"KAFKA_SASL_USERNAME": "laowu", "KAFKA_SASL_PASSWORD": SECRET}, "does not authenticate"),
    ({"KAFKA_SSL_CAFILE": certifi.where()}, "does not use TLS"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"}, "not a readable file"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTFILE": certifi.where()}, "go together"),
    ({**SASL, "KAFKA_SASL_MECHANISM": "PLAIN"}, "KAFKA_SASL_MECHANISM"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL"}, "KAFKA_SECURITY_PROTOCOL"),
])
def test_combinations_that_cannot_work_are_refused_at_start_up(env, values: dict[str, str], says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        env(**values)
    assert says in str(caught.value)
    assert SECRET not in str(caught.value)


def test_production_refuses_plaintext_unless_explicitly_allowed(env) -> None:
    prod = PRODUCTION
    with pytest.raises(ValidationError, match="production refuses KAFKA_SECURITY_PROTOCOL=PLAINTEXT"):
        env(**prod)
    assert env(**prod, KAFKA_ALLOW_PLAINTEXT="1").kafka_security_protocol == "PLAINTEXT"


def test_production_refuses_the_development_kafka_password(env) -> None:
    prod = PRODUCTION
    with pytest.raises(ValidationError, match="development KAFKA_SASL_PASSWORD"):
        env(**prod, **{**SASL, "KAFKA_SASL_PASSWORD": DEV_KAFKA_SASL_PASSWORD})
    assert env(**prod, **SASL).kafka_security_protocol == "SASL_PLAINTEXT"


def test_the_password_is_never_shown(env) -> None:
    settings = env(**SASL)
    security = KafkaSecurity.from_settings(settings)
    for shown in (repr(settings), str(settings), repr(security), str(security),
                  repr(security.faust_credentials())):
        assert SECRET not in shown


@pytest.mark.parametrize("values", [
    {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_PASSWORD": SECRET},  # the password ends the input
    {"KAFKA_SASL_PASSWORD": SECRET},
])
def test_a_refusal_never_repeats_the_password(env, values: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as caught:
        env(**values)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    with pytest.raises(ValidationError) as caught:  # given as arguments, too
        Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_password=SECRET)
    assert SECRET not in str(caught.value)


def test_tls_verifies_the_broker(env) -> None:
    settings = env(KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_USERNAME="laowu", KAFKA_SASL_PASSWORD=SECRET,
                   KAFKA_SSL_CAFILE=certifi.where())
    context = client_options(settings)["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert client_options(env(KAFKA_SECURITY_PROTOCOL="SSL"))["security_protocol"] == "SSL"


# ---- the clients -------------------------------------------------------------------------------------


def _sasl_of(client: Any) -> tuple[str, str, str | None, str | None]:
    return (client._security_protocol, client._sasl_mechanism, client._sasl_plain_username,
            client._sasl_plain_password)


async def test_every_factory_applies_the_settings(env) -> None:
    settings = env(**SASL)
    want = ("SASL_PLAINTEXT", "SCRAM-SHA-512", "laowu", SECRET)
    producer = kafka_security.producer(settings, acks="all")
    consumer = kafka_security.consumer(settings, "t", group_id="g")
    admin = kafka_security.admin(settings)
    try:
        assert _sasl_of(producer.client) == _sasl_of(consumer._client) == _sasl_of(admin._client) == want
    finally:
        await producer.stop()
        await consumer.stop()
        await admin.close()


async def test_a_caller_cannot_override_the_security(env) -> None:
    with pytest.raises(TypeError, match="through the settings"):
        kafka_security.producer(env(**SASL), security_protocol="PLAINTEXT")


async def test_our_clients_are_built_with_the_settings(env) -> None:
    """The real constructors: the API publisher, the consumers' producer and consumer, the lag probe."""
    from api.publisher import Publisher
    from consumers.runner import _producer

    settings = env(**SASL)
    publisher = Publisher(settings, pool=None)  # type: ignore[arg-type]
    producer = _producer(settings)
    try:
        assert _sasl_of(publisher.producer.client) == _sasl_of(producer.client) == (
            "SASL_PLAINTEXT", "SCRAM-SHA-512", "laowu", SECRET)
    finally:
        await publisher.producer.stop()
        await producer.stop()


async def test_the_faust_worker_authenticates_with_the_same_settings(env, tmp_path) -> None:
    settings = env(**SASL, LAOWU_HOME=str(tmp_path))
    app = create_app(settings)
    credentials = app.conf.broker_credentials
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials_to_aiokafka_auth(credentials) == {**client_options(settings), "ssl_context": None}
    # What the worker really starts: its consumer (built before start()) and its producer.
    consumer = app.consumer._thread._create_worker_consumer(app.transport)
    assert _sasl_of(consumer._client) == ("SASL_PLAINTEXT", "SCRAM-SHA-512", "laowu", SECRET)
    producer_options = {**app.producer._settings_default(), **app.producer._settings_auth()}
    assert (producer_options["security_protocol"], producer_options["sasl_plain_username"],
            producer_options["sasl_plain_password"]) == ("SASL_PLAINTEXT", "laowu", SECRET)
    await consumer.stop()


async def test_the_faust_worker_stays_plaintext_by_default(env, tmp_path) -> None:
    app = create_app(env(LAOWU_HOME=str(tmp_path)))
    assert app.conf.broker_credentials is None


# ---- the local broker -------------------------------------------------------------------------------


def test_the_local_broker_gets_a_scram_listener_for_sasl_settings(env, tmp_path) -> None:
    node = KafkaNode(tmp_path, port=19092, controller_port=19093, lib_dir=tmp_path, java="java",
                     **local_kafka_auth(env(**SASL)))
    props = node.server_properties()
    assert props["listeners"] == "SASL_PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["inter.broker.listener.name"] == "SASL_PLAINTEXT"
    assert props["listener.security.protocol.map"] == "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    jaas = props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    assert f'username="{BROKER_USER}"' in jaas and SECRET not in jaas  # the broker is its own user
    assert (node.broker_secret_path.stat().st_mode & 0o777) == 0o600
    assert local_kafka_auth(env()) == {}
    with pytest.raises(RuntimeError, match="PLAINTEXT or SASL_PLAINTEXT"):
        local_kafka_auth(env(KAFKA_SECURITY_PROTOCOL="SSL"))
    with pytest.raises(ValueError, match="may hold only"):
        KafkaNode(tmp_path, port=1, controller_port=2, lib_dir=tmp_path, java="java", scram_users={"a": 'x"y'})


def test_the_stack_passes_its_kafka_security_to_the_services(env, tmp_path) -> None:
    stack = Stack(env(**SASL, LAOWU_HOME=str(tmp_path)), services=["api"])
    service_env = stack._service_env("127.0.0.1:9", "postgresql://u@127.0.0.1:9/x")
    assert {k: service_env[k] for k in SASL} == SASL


# ---- structure: no client without the settings --------------------------------------------------------

CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient", "AIOKafkaClient"}


def _sources() -> list[Path]:
    skip = {".venv", "tests", ".git", "node_modules"}
    return [p for p in REPO.rglob("*.py") if not skip & set(p.relative_to(REPO).parts)]


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def test_no_kafka_client_is_built_without_the_shared_security() -> None:
    """Only laowu/kafka_security.py constructs aiokafka clients; faust apps pass broker_credentials; topics are
    created with the settings' security. (Tests talk to their own PLAINTEXT broker and are not walked.)"""
    sources = _sources()
    assert any(p.name == "publisher.py" for p in sources)  # the walk sees our code
    offences = []
    for path in sources:
        rel = path.relative_to(REPO).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            if not isinstance(node, ast.Call):
                continue
            name = _called(node)
            keywords = {k.arg for k in node.keywords}
            if name in CLIENTS and rel != "laowu/kafka_security.py":
                offences.append(f"{rel}:{node.lineno} builds {name} itself (use laowu.kafka_security)")
            elif name in ("App", "_App") and "broker" in keywords and "broker_credentials" not in keywords:
                offences.append(f"{rel}:{node.lineno} builds a faust app without broker_credentials")
            elif name == "create_topics" and len(node.args) < 3 and "security" not in keywords \
                    and rel != "laowu/stack/kafka.py":
                offences.append(f"{rel}:{node.lineno} creates topics without the settings' security")
    assert not offences, "\n".join(offences)
