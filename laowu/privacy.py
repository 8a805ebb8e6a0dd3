"""Field-level protection of personal information (个人信息) under PIPL.

* ``worker_id`` — a keyed hash (HMAC-SHA256) of the resident ID number: stable, the same for every
  registration of one person, usable as a Kafka key and as the blind index for exact lookups, and
  useless to anyone without the key.
* ``FieldCipher`` — AES-256-GCM per field. The ciphertext carries its key id, so keys rotate without
  rewriting old rows: new data is sealed with the first key, old data opens with whichever key sealed it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from laowu import keyspec
from laowu.settings import Settings

_PREFIX = "enc1"


def worker_id_for(id_number: str, key: bytes) -> str:
    """Stable pseudonymous id of a natural person: ``w`` + 24 hex chars of HMAC-SHA256."""
    digest = hmac.new(key, id_number.encode("ascii"), hashlib.sha256).hexdigest()
    return "w" + digest[:24]


class FieldCipher:
    """AES-256-GCM with the field name as associated data, so a ciphertext can't be moved between fields."""

    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        if active not in keys:
            raise ValueError(f"active key {active!r} is not among the configured keys")
        for kid, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"encryption key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
            if ":" in kid:
                raise ValueError("key ids must not contain ':'")
        self._aeads = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active = active

    @classmethod
    def from_spec(cls, spec: str) -> FieldCipher:
        """Parse ``kid:base64key[,kid:base64key…]`` (``laowu.keyspec``); the first key seals new data."""
        keys = keyspec.encryption_keys(spec)
        return cls(keys, next(iter(keys)))

    def encrypt(self, plaintext: str, field: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aeads[self.active].encrypt(nonce, plaintext.encode("utf-8"), field.encode())
        return f"{_PREFIX}:{self.active}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str, field: str) -> str:
        prefix, kid, b64 = token.split(":", 2)
        if prefix != _PREFIX:
            raise ValueError("not a Laowu ciphertext")
        aead = self._aeads.get(kid)
        if aead is None:
            raise ValueError(f"unknown encryption key id {kid!r}")
        raw = base64.b64decode(b64)
        return aead.decrypt(raw[:12], raw[12:], field.encode()).decode("utf-8")

    @staticmethod
    def key_id(token: str) -> str:
        return token.split(":", 2)[1]


class Privacy:
    """The pair every component needs: the keyed hash and the cipher, built once from settings."""

    def __init__(self, settings: Settings) -> None:
        self._hash_key = settings.worker_id_key.get_secret_value().encode()
        self.cipher = FieldCipher.from_spec(settings.encryption_keys.get_secret_value())

    def worker_id(self, id_number: str) -> str:
        return worker_id_for(id_number, self._hash_key)
