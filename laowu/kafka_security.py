"""How every Kafka client of ours authenticates: one place, so no client can be built without it.

The topics keep events forever, personal data included (encrypted, but present): a broker that lets anyone
connect gives them the whole history. So the clients speak what the settings say (``KAFKA_SECURITY_PROTOCOL``,
SASL/SCRAM credentials, TLS files), and this module is the only one that constructs aiokafka clients
(:func:`producer`, :func:`consumer`, :func:`admin`); ``tests/unit/test_kafka_security.py`` walks the code and
fails on an ``AIOKafkaProducer(...)`` built anywhere else. The faust workers get the same credentials through
:meth:`KafkaSecurity.faust_credentials`.

Only SCRAM is offered for SASL: ``PLAIN`` would send the password itself over the wire (in the clear with
``SASL_PLAINTEXT``), SCRAM never does.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]
from aiokafka.helpers import create_ssl_context

if TYPE_CHECKING:
    import faust

    from laowu.settings import Settings

__all__ = [
    "PLAINTEXT",
    "KafkaSecurity",
    "admin",
    "client_options",
    "consumer",
    "producer",
    "settings_problems",
]

SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})
TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
SECURITY_KEYS = frozenset({"security_protocol", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password",
                           "ssl_context"})


@dataclass(frozen=True)
class KafkaSecurity:
    """What a client needs besides the broker address. The password never shows in a repr or a log line."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaSecurity:
        password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else None
        return cls(settings.kafka_security_protocol, settings.kafka_sasl_mechanism, settings.kafka_sasl_username,
                   password, settings.kafka_ssl_cafile, settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)

    @property
    def sasl(self) -> bool:
        return self.protocol in SASL_PROTOCOLS

    @property
    def tls(self) -> bool:
        return self.protocol in TLS_PROTOCOLS

    def ssl_context(self) -> ssl.SSLContext | None:
        """Verifying TLS context (hostname checked; the system CAs unless ``cafile``), or None without TLS."""
        if not self.tls:
            return None
        return create_ssl_context(
            cafile=str(self.cafile) if self.cafile else None,
            certfile=str(self.certfile) if self.certfile else None,
            keyfile=str(self.keyfile) if self.keyfile else None,
        )

    def options(self) -> dict[str, Any]:
        """The aiokafka keyword arguments (producer, consumer and admin client take the same ones)."""
        opts: dict[str, Any] = {"security_protocol": self.protocol}
        if self.sasl:
            opts |= {"sasl_mechanism": self.mechanism, "sasl_plain_username": self.username,
                     "sasl_plain_password": self.password}
        if self.tls:
            opts["ssl_context"] = self.ssl_context()
        return opts

    def faust_credentials(self) -> faust.types.auth.CredentialsT | None:
        """faust's ``broker_credentials``: its aiokafka driver turns them into the same options as :meth:`options`."""
        import faust

        if self.sasl:
            return faust.SASLCredentials(username=self.username, password=self.password, mechanism=self.mechanism,
                                         ssl_context=self.ssl_context())
        if self.tls:
            return faust.SSLCredentials(self.ssl_context())
        return None


PLAINTEXT = KafkaSecurity()


def settings_problems(settings: Settings) -> list[str]:
    """Why these Kafka settings cannot work, or would silently not do what they seem to (empty: fine).

    Credentials beside a protocol that does not use them are refused too: ``KAFKA_SASL_USERNAME`` set while the
    protocol is still PLAINTEXT is an operator who meant to authenticate and would not.
    """
    from laowu.settings import DEV_KAFKA_SASL_PASSWORD

    protocol = settings.kafka_security_protocol
    password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    problems: list[str] = []
    if protocol in SASL_PROTOCOLS:
        if not (settings.kafka_sasl_username or "").strip():
            problems.append(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME")
        if not password:
            problems.append(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_PASSWORD")
    elif settings.kafka_sasl_username or password:
        problems.append(f"KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SECURITY_PROTOCOL={protocol} "
                        "does not authenticate (SASL_SSL or SASL_PLAINTEXT)")
    files = {"KAFKA_SSL_CAFILE": settings.kafka_ssl_cafile, "KAFKA_SSL_CERTFILE": settings.kafka_ssl_certfile,
             "KAFKA_SSL_KEYFILE": settings.kafka_ssl_keyfile}
    if protocol in TLS_PROTOCOLS:
        problems += [f"{name}={path} is not a readable file" for name, path in files.items()
                     if path is not None and not Path(path).is_file()]
        if (settings.kafka_ssl_certfile is None) != (settings.kafka_ssl_keyfile is None):
            problems.append("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together (a client certificate and its key)")
    elif any(path is not None for path in files.values()):
        problems.append(f"KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS "
                        "(SSL or SASL_SSL)")
    if settings.env == "production":
        if protocol == "PLAINTEXT" and not settings.kafka_allow_plaintext:
            problems.append("production refuses KAFKA_SECURITY_PROTOCOL=PLAINTEXT (anyone on the network could read "
                            "and write every topic): use SASL_SSL, or set KAFKA_ALLOW_PLAINTEXT=1 where the network "
                            "itself is the protection")
        if DEV_KAFKA_SASL_PASSWORD in password:
            problems.append("production refuses the development KAFKA_SASL_PASSWORD")
    return problems


def client_options(settings: Settings) -> dict[str, Any]:
    """The security options of every aiokafka client built from ``settings``."""
    return KafkaSecurity.from_settings(settings).options()


def _resolve(kafka: Settings | KafkaSecurity, bootstrap: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    clash = SECURITY_KEYS & kwargs.keys()
    if clash:  # security comes from the settings only, never from a caller's special case
        raise TypeError(f"pass Kafka security through the settings, not {sorted(clash)}")
    if isinstance(kafka, KafkaSecurity):
        security = kafka
    else:
        security = KafkaSecurity.from_settings(kafka)
        bootstrap = bootstrap or kafka.kafka_bootstrap
    if not bootstrap:
        raise RuntimeError("KAFKA_BOOTSTRAP must be set")
    return {"bootstrap_servers": bootstrap, **kwargs, **security.options()}


def producer(kafka: Settings | KafkaSecurity, *, bootstrap: str | None = None, **kwargs: Any) -> AIOKafkaProducer:
    """An (unstarted) producer; with a Settings, ``bootstrap`` defaults to ``KAFKA_BOOTSTRAP``."""
    return AIOKafkaProducer(**_resolve(kafka, bootstrap, kwargs))


def consumer(kafka: Settings | KafkaSecurity, *topics: str, bootstrap: str | None = None,
             **kwargs: Any) -> AIOKafkaConsumer:
    """An (unstarted) consumer of ``topics`` (none: assign or subscribe later)."""
    return AIOKafkaConsumer(*topics, **_resolve(kafka, bootstrap, kwargs))


def admin(kafka: Settings | KafkaSecurity, *, bootstrap: str | None = None, **kwargs: Any) -> AIOKafkaAdminClient:
    """An (unstarted) admin client."""
    return AIOKafkaAdminClient(**_resolve(kafka, bootstrap, kwargs))
