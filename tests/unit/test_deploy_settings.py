"""docker-compose.yml and deploy/k8s stay true to the code: the names they set are the ones Settings reads,
and the production shapes authenticate to Kafka and use TLS to PostgreSQL (and would start)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices, ValidationError

from laowu.settings import Settings

REPO = Path(__file__).resolve().parents[2]
STRONG = {"LAOWU_WORKER_ID_KEY": "w" * 48, "LAOWU_ENCRYPTION_KEYS": "k1:" + base64.b64encode(bytes(range(32))).decode(),
          "LAOWU_TOKEN_KEYS": "t1:" + "t" * 48, "LAOWU_METRICS_TOKEN": "m" * 48,
          "KAFKA_SASL_PASSWORD": "0123456789abcdef0123456789abcdef"}


def _settings_names() -> set[str]:
    names = set()
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {str(choice) for choice in alias.choices}
        else:
            names.add(f"LAOWU_{name.upper()}")
    return names


def _read_directly() -> set[str]:
    """Names our code reads from the environment itself (not through Settings)."""
    pattern = re.compile(r"""(?:os\.environ\.get|os\.getenv|os\.environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")
    found: set[str] = set()
    for folder in ("laowu", "api", "consumers", "streams"):
        for path in (REPO / folder).rglob("*.py"):
            found |= set(pattern.findall(path.read_text()))
    return found


KNOWN = _settings_names() | _read_directly()


def _compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _laowu_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose["services"].items() if "laowu" in str(svc.get("image", ""))}


def _resolve(value: Any) -> str | None:
    """What compose passes with the documented secrets set: ${VAR:-default} as its default, bare names as set."""
    if value is None:
        return None
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def _build(env: dict[str, str | None], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in KNOWN:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    return Settings()


def test_compose_sets_only_names_the_code_reads() -> None:
    services = _laowu_services(_compose())
    assert {"init", "api", "ledger-consumer", "streams"} <= services.keys()
    for name, svc in services.items():
        unknown = set(svc["environment"]) - KNOWN
        assert not unknown, f"{name}: {sorted(unknown)} are read by nothing"


NODES = ("kafka-1", "kafka-2", "kafka-3")


def test_compose_authenticates_to_kafka_as_the_broker_expects(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = _compose()
    for node in NODES:
        broker = compose["services"][node]["environment"]
        for name, svc in _laowu_services(compose).items():
            env = svc["environment"]
            assert env["KAFKA_SECURITY_PROTOCOL"] in ("SASL_PLAINTEXT", "SASL_SSL"), name
            advertised = dict(reversed(entry.split("://")) for entry in broker["KAFKA_ADVERTISED_LISTENERS"].split(","))
            assert advertised[f"{node}:9092"] == env["KAFKA_SECURITY_PROTOCOL"], "the client speaks the listener's protocol"
            assert f"{node}:9092" in env["KAFKA_BOOTSTRAP"].split(","), name
            assert env["KAFKA_SASL_MECHANISM"] in broker["KAFKA_SASL_ENABLED_MECHANISMS"].split(",")
            assert "KAFKA_SASL_PASSWORD" in env and env["KAFKA_SASL_PASSWORD"] is None  # passed through, never written
        # Only the quorum's internal network, which the nodes alone join, hears the unauthenticated controller listener.
        assert f"CONTROLLER://{node}-quorum:" in broker["KAFKA_LISTENERS"]
        assert "PLAINTEXT://:" not in broker["KAFKA_LISTENERS"].replace("SASL_PLAINTEXT", "")
        assert compose["services"][node]["networks"]["kafka-quorum"]["aliases"] == [f"{node}-quorum"]
        # The users the broker is formatted with are the ones the services log in as.
        fmt = compose["services"][f"{node}-format"]
        assert fmt["environment"]["KAFKA_SASL_USERNAME"] == _laowu_services(compose)["api"]["environment"][
            "KAFKA_SASL_USERNAME"]
        assert "--add-scram" in fmt["command"][0] and "$$KAFKA_SASL_USERNAME" in fmt["command"][0]
        assert fmt["volumes"] == compose["services"][node]["volumes"]  # formats the node's own data
        assert compose["services"][node]["depends_on"][f"{node}-format"]["condition"] == \
            "service_completed_successfully"
    assert compose["networks"]["kafka-quorum"] == {"internal": True}
    joined = {name for name, svc in compose["services"].items() if "kafka-quorum" in (svc.get("networks") or {})}
    assert joined == set(NODES)

    api = {k: _resolve(v) for k, v in _laowu_services(compose)["api"]["environment"].items()}
    settings = _build(api | STRONG, monkeypatch)  # starts with the documented secrets set
    assert settings.env == "production" and settings.kafka_security_protocol == "SASL_PLAINTEXT"
    with pytest.raises(ValidationError, match="needs KAFKA_SASL_PASSWORD"):  # and refuses to start without
        _build(api | {**STRONG, "KAFKA_SASL_PASSWORD": None}, monkeypatch)


def _k8s(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "deploy" / "k8s" / name).read_text())


def test_k8s_sets_only_names_the_code_reads_and_speaks_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _k8s("configmap.yaml")["data"]
    secret = _k8s("secret.template.yaml")["stringData"]
    for source, env in (("configmap", config), ("secret", secret)):
        unknown = set(env) - KNOWN
        assert not unknown, f"{source}: {sorted(unknown)} are read by nothing"
    assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert {"KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"} <= secret.keys()
    assert "sslmode=verify-full" in secret["DATABASE_URL"] and "sslrootcert=" in secret["DATABASE_URL"]
    # The unedited template cannot start anything; with real secrets it does.
    with pytest.raises(ValidationError, match="development KAFKA_SASL_PASSWORD"):  # even with the keys set
        _build(config | secret | {k: v for k, v in STRONG.items() if k.startswith("LAOWU_")}, monkeypatch)
    settings = _build(config | secret | STRONG, monkeypatch)
    assert settings.kafka_security_protocol == "SASL_SSL"


def test_every_k8s_workload_gets_the_settings_and_the_ca_mount() -> None:
    for name in ("api-deployment.yaml", "ledger-consumer-deployment.yaml", "streams-deployment.yaml", "init-job.yaml"):
        pod = _k8s(name)["spec"]["template"]["spec"]
        container = pod["containers"][0]
        refs = {ref.get("configMapRef", ref.get("secretRef", {})).get("name") for ref in container["envFrom"]}
        assert refs == {"laowu-config", "laowu-secrets"}, name
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts.get("tls") == "/etc/laowu/tls", name
        tls = next(v for v in pod["volumes"] if v["name"] == "tls")
        assert tls["secret"] == {"secretName": "laowu-tls", "optional": True}, name


def test_compose_runs_three_nodes_as_one_quorum_with_the_settings_of_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22: the same three-node quorum `laowu up --brokers 3` runs — static voters, one cluster id, internal
    topics with 3 replicas and min.insync.replicas=2, and our services told the cluster's size (topics, faust)."""
    compose = _compose()
    nodes = [compose["services"][node]["environment"] for node in NODES]
    voters = "1@kafka-1-quorum:9093,2@kafka-2-quorum:9093,3@kafka-3-quorum:9093"
    assert [env["KAFKA_NODE_ID"] for env in nodes] == ["1", "2", "3"]
    assert {env["KAFKA_CONTROLLER_QUORUM_VOTERS"] for env in nodes} == {voters}
    assert len({env["CLUSTER_ID"] for env in nodes}) == 1
    assert {env["KAFKA_PROCESS_ROLES"] for env in nodes} == {"broker,controller"}
    for env in nodes:
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
    assert len({compose["services"][node]["volumes"][0] for node in NODES}) == 3  # a volume each
    api = {k: _resolve(v) for k, v in _laowu_services(compose)["api"]["environment"].items()}
    settings = _build(api | STRONG, monkeypatch)
    assert (settings.kafka_brokers, settings.kafka_replication, settings.kafka_min_insync) == (3, 3, 2)
    for name, svc in _laowu_services(compose).items():
        assert {f"{node}" for node in NODES} <= set(svc.get("depends_on", {})), name
    k8s = _k8s("configmap.yaml")["data"]
    assert k8s["LAOWU_KAFKA_BROKERS"] == "3" and len(k8s["KAFKA_BOOTSTRAP"].split(",")) == 3
