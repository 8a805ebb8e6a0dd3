"""Settings, read once from the environment (``LAOWU_*``, ``DATABASE_URL``, ``KAFKA_BOOTSTRAP``).

Secrets have development defaults so that ``make run`` works on a fresh clone; outside development the
defaults are refused, because a known key would let anyone derive worker ids or decrypt ID numbers.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from laowu import keyspec

# Public, deliberately recognisable development secrets; refused when LAOWU_ENV=production.
DEV_WORKER_ID_KEY = "laowu-dev-worker-id-key-do-not-use-in-production"
DEV_ENCRYPTION_KEYS = "dev1:" + base64.b64encode(b"laowu-dev-aes-256-key-0123456789"[:32]).decode()
DEV_TOKEN_KEYS = "dev1:laowu-dev-token-signing-key-do-not-use-in-production"
# The placeholder SASL password of docker-compose.yml's development Kafka user; refused in production too.
DEV_KAFKA_SASL_PASSWORD = "laowu-dev-kafka-password-do-not-use-in-production"


def _env(name: str) -> AliasChoices:
    """``NAME`` as operators know it from Kafka/PostgreSQL tooling, or ``LAOWU_NAME`` beside our other settings."""
    return AliasChoices(name, f"LAOWU_{name}")


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting's error (printed at start) would otherwise repeat the raw input,
    # passwords and keys included.
    model_config = SettingsConfigDict(env_prefix="LAOWU_", extra="ignore", populate_by_name=True,
                                      hide_input_in_errors=True)

    # The container image sets production (Dockerfile); a checkout runs as development so `make run` needs no keys.
    env: Literal["development", "test", "production"] = "development"
    home: Path = Field(default=Path(".laowu"), description="Data, logs and pid files of the local stack.")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "LAOWU_DATABASE_URL")
    )
    kafka_bootstrap: str | None = Field(
        default=None, validation_alias=AliasChoices("KAFKA_BOOTSTRAP", "LAOWU_KAFKA_BOOTSTRAP")
    )
    topic_prefix: str = Field(default="", description="Prepended to every topic name; isolates tests.")

    # Kafka client security (laowu/kafka_security.py turns these into every client's options). Topics keep
    # events forever, personal data included (encrypted): in production a client authenticates (SASL/SCRAM) and
    # preferably encrypts (SASL_SSL). PLAINTEXT is the local stack's default and refused in production unless
    # KAFKA_ALLOW_PLAINTEXT says the network itself is trusted.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", validation_alias=_env("KAFKA_SECURITY_PROTOCOL"))
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = Field(
        default="SCRAM-SHA-512", validation_alias=_env("KAFKA_SASL_MECHANISM"))
    kafka_sasl_username: str | None = Field(default=None, validation_alias=_env("KAFKA_SASL_USERNAME"))
    kafka_sasl_password: SecretStr | None = Field(default=None, validation_alias=_env("KAFKA_SASL_PASSWORD"))
    kafka_ssl_cafile: Path | None = Field(default=None, validation_alias=_env("KAFKA_SSL_CAFILE"))
    kafka_ssl_certfile: Path | None = Field(default=None, validation_alias=_env("KAFKA_SSL_CERTFILE"))
    kafka_ssl_keyfile: Path | None = Field(default=None, validation_alias=_env("KAFKA_SSL_KEYFILE"))
    kafka_allow_plaintext: bool = Field(default=False, validation_alias=_env("KAFKA_ALLOW_PLAINTEXT"))

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    kafka_port: int = 0  # 0: pick a free port on first start, then keep it
    pg_port: int = 0
    kafka_heap: str = "768m"
    # How many Kafka brokers the cluster has. `laowu up` (and the test harness) starts that many local KRaft nodes
    # as one quorum; topics (ours, the brokers' internal ones and faust's) get min(3, N) replicas and, from 3,
    # min.insync.replicas=2: a write is acknowledged by two brokers, so losing any one loses nothing.
    kafka_brokers: int = Field(default=1, ge=1, le=9)
    kafka_cache: Path = Field(default_factory=lambda: Path.home() / ".cache" / "laowu" / "kafka")

    worker_id_key: SecretStr = SecretStr(DEV_WORKER_ID_KEY)
    # "kid:base64(32 bytes),kid2:…"; the first is the one new data is encrypted with.
    encryption_keys: SecretStr = SecretStr(DEV_ENCRYPTION_KEYS)
    token_keys: SecretStr = SecretStr(DEV_TOKEN_KEYS)

    # Bearer secret a Prometheus scraper presents at /metrics (per-route activity, reveals included, is not public).
    # Unset: /metrics answers 401 to everyone.
    metrics_token: SecretStr | None = None
    # The ledger consumer, relay and statistics worker serve their metrics here (laowu.metrics); 0: not served.
    # `laowu up` gives each of its services a free port of its own (printed with the URLs).
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"

    token_ttl_s: int = 900
    token_max_ttl_s: int = 86400  # hard cap, whatever `laowu token --ttl` asks; longer tokens are refused too
    token_audience: str = "laowu-api"
    # Seconds a replica may go on accepting a token signed out at another replica (the revocation list is reread
    # at most this often; the replica that signs out refuses at once).
    revocation_refresh_s: float = 5.0
    feed_max_streams: int = 16  # concurrent /v1/feed streams per credential (per API replica)
    feed_max_rewind: int = 100_000  # rows a Last-Event-ID may lie behind the tail; older resumes at the tail
    rate_limit_per_s: float = 200.0
    rate_limit_burst: int = 400
    # Exact lookups by ID number (GET /v1/workers?id_number=, POST /v1/workers:lookup) confirm a guess: their own,
    # much lower limit per credential, on top of the general one.
    lookup_rate_per_min: float = 30.0
    lookup_burst: int = 10
    # Reveals (break the glass: full ID number and phone) per credential per calendar day in Asia/Shanghai, counted
    # from the audit log so every replica agrees; past it 429 until local midnight. 0 refuses every reveal.
    reveal_quota_per_day: int = Field(default=200, ge=0)
    # Comma-separated CIDRs of the reverse proxies in front of the API; X-Forwarded-For / -Proto are believed only
    # from these (walked right to left through trusted hops). Empty: the TCP peer is the client.
    trusted_proxies: str = ""
    # Per credential (per client address for "token"), on top of rate_limit_*: "class=refill_per_s/burst".
    # Classes: token, login (sign-in by password), reveal, export (workbooks, errors.xlsx), import (uploads); see
    # api.ratelimit. A spec without "login" limits sign-ins as "token".
    route_rate_limits: str = "token=1/20,login=1/20,reveal=5/50,export=1/10,import=1/20"
    # Accounts for people (POST /v1/auth/login): this many wrong passwords in a row lock the account for
    # login_lock_s seconds (403 account_locked with Retry-After); the "login" class above limits each client address.
    login_max_failures: int = Field(default=5, ge=1)
    login_lock_s: float = Field(default=900.0, gt=0)
    hsts_max_age_s: int = 31536000
    # The web console's build served at /console/ (api/console.py); empty: console/dist of this checkout.
    console_dir: str = ""

    max_body_bytes: int = 1 << 20
    max_batch_bytes: int = 8 << 20
    max_batch_events: int = 1000

    # Spreadsheet imports (解析隔离): bounds of one upload, sized for a province's register.
    import_max_upload_bytes: int = 50 << 20
    import_max_uncompressed_bytes: int = 500 << 20
    import_max_ratio: float = 100.0
    import_max_rows: int = 200_000
    import_max_columns: int = 64
    import_max_cell_chars: int = 32 * 1024
    import_max_shared_strings: int = 1_000_000
    import_max_shared_strings_bytes: int = 100 << 20
    import_max_line_chars: int = 1 << 20
    import_timeout_s: float = 120.0
    import_memory_mib: int = 2048

    consumer_batch_max: int = 2000
    consumer_poll_ms: int = 100
    # aiokafka fetches a drained partition only once the request in flight returns: the broker's wait bounds latency.
    consumer_fetch_wait_ms: int = 50
    sweep_every_s: float = 30.0

    @model_validator(mode="after")
    def _no_weak_secrets_in_production(self) -> Settings:
        """Production refuses the public development keys, empty keys and keys too short to be keys (by length:
        HMAC keys at least 32 bytes, AES keys exactly 32), naming the variable, never the value."""
        if self.env == "production":
            defaults = {
                "LAOWU_WORKER_ID_KEY": (self.worker_id_key, DEV_WORKER_ID_KEY),
                "LAOWU_ENCRYPTION_KEYS": (self.encryption_keys, DEV_ENCRYPTION_KEYS),
                "LAOWU_TOKEN_KEYS": (self.token_keys, DEV_TOKEN_KEYS),
            }
            bad = [f"{name} (empty or the development value)" for name, (value, dev) in defaults.items()
                   if dev in value.get_secret_value() or not value.get_secret_value().strip()]
            if not bad:
                bad = keyspec.weak_keys(worker_id_key=self.worker_id_key.get_secret_value(),
                                        encryption_spec=self.encryption_keys.get_secret_value(),
                                        token_spec=self.token_keys.get_secret_value())
                if self.metrics_token is not None and len(self.metrics_token.get_secret_value().encode()) < 32:
                    bad.append("LAOWU_METRICS_TOKEN is shorter than 32 bytes")
            if bad:
                raise ValueError("set real secrets in production: " + "; ".join(bad))
        return self

    @field_validator("kafka_sasl_username", "kafka_sasl_password", "kafka_ssl_cafile", "kafka_ssl_certfile",
                     "kafka_ssl_keyfile", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `KAFKA_SSL_CAFILE=` in an env file means "not set", not the current directory.
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _kafka_security_consistent(self) -> Settings:
        from laowu.kafka_security import settings_problems  # the rules live beside the code that applies them

        problems = settings_problems(self)
        if problems:
            raise ValueError("Kafka security settings: " + "; ".join(problems))
        return self

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def kafka_replication(self) -> int:
        """Replicas of every topic: one per broker, up to three (more copies buy little on top of two in sync)."""
        return min(3, self.kafka_brokers)

    @property
    def kafka_min_insync(self) -> int:
        """``min.insync.replicas``: 2 of 3, so an acknowledged write survives any one broker; 1 with fewer replicas
        (2 of 2 would stop every write while either broker is down)."""
        return 2 if self.kafka_replication >= 3 else 1


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
