"""Production refuses weak secrets by length, and the container image runs as production unless told otherwise."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from laowu import keyspec
from laowu.settings import Settings

STRONG_HMAC = "x7Qp2vLm9Rt4Ks8Wn3Yb6Hd1Jf5Gc0Za"  # 32 bytes
STRONG_AES = "k1:" + base64.b64encode(bytes(range(32))).decode()
STRONG = {"worker_id_key": STRONG_HMAC, "encryption_keys": STRONG_AES, "token_keys": "t1:" + STRONG_HMAC}


def production(**overrides: str) -> Settings:
    # the network protects Kafka here: this test is about the keys (Kafka's own rules: test_kafka_security.py)
    return Settings(env="production", kafka_allow_plaintext=True, **{**STRONG, **overrides})


def test_strong_keys_are_accepted_in_production() -> None:
    settings = production()
    assert settings.env == "production"


@pytest.mark.parametrize(("field", "value", "named"), [
    ("worker_id_key", STRONG_HMAC[:31], "LAOWU_WORKER_ID_KEY"),
    ("token_keys", "t1:" + STRONG_HMAC[:31], "LAOWU_TOKEN_KEYS"),
    # an old key kept for rotation is a key too: a weak one would still verify forged tokens
    ("token_keys", f"t2:{STRONG_HMAC},t1:short", "LAOWU_TOKEN_KEYS"),
    ("encryption_keys", "k1:" + base64.b64encode(bytes(16)).decode(), "LAOWU_ENCRYPTION_KEYS"),
    ("encryption_keys", "k1:" + base64.b64encode(bytes(33)).decode(), "LAOWU_ENCRYPTION_KEYS"),
    ("encryption_keys", "k1:not base64 at all!", "LAOWU_ENCRYPTION_KEYS"),
    ("encryption_keys", "REPLACE_ME", "LAOWU_ENCRYPTION_KEYS"),
    ("token_keys", "", "LAOWU_TOKEN_KEYS"),
    ("metrics_token", "scrape-me", "LAOWU_METRICS_TOKEN"),
])
def test_weak_keys_are_refused_in_production_by_name_never_by_value(field: str, value: str, named: str) -> None:
    with pytest.raises(ValidationError) as refused:
        production(**{field: value})
    message = str(refused.value)
    assert named in message
    secret = value.partition(":")[2]
    if len(secret) >= 5:
        assert secret not in message


def test_development_defaults_are_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="LAOWU_TOKEN_KEYS"):
        Settings(env="production", kafka_allow_plaintext=True, worker_id_key=STRONG_HMAC, encryption_keys=STRONG_AES)


def test_a_checkout_runs_with_development_keys() -> None:
    assert Settings(env="development", worker_id_key="short", token_keys="t1:short").env == "development"


def test_the_cipher_and_the_signer_read_the_same_rings() -> None:
    assert keyspec.encryption_keys(STRONG_AES) == {"k1": bytes(range(32))}
    assert list(keyspec.token_keys(f"t2:{STRONG_HMAC}, t1:{STRONG_HMAC}")) == ["t2", "t1"]
    with pytest.raises(keyspec.KeySpecError, match="twice"):
        keyspec.token_keys(f"t1:{STRONG_HMAC},t1:{STRONG_HMAC}")


def test_the_image_runs_as_production_unless_told_otherwise() -> None:
    dockerfile = (Path(__file__).parents[2] / "Dockerfile").read_text()
    runtime = dockerfile[dockerfile.rindex("\nFROM "):]
    instructions = "\n".join(line for line in runtime.splitlines() if not line.lstrip().startswith("#"))
    env = dict(re.findall(r"\b(LAOWU_[A-Z_]+)=([^\s\\]+)", instructions))
    assert env.get("LAOWU_ENV") == "production"
