"""PostgreSQL over TLS: ``sslmode`` / ``sslrootcert`` in ``DATABASE_URL`` (or ``PGSSLMODE``) decide, at every door.

Our code hands ``DATABASE_URL`` to asyncpg as it is (pools, single connections, migrations, the launcher's
probe), so the DSN's TLS parameters must reach the server unchanged: a test server that accepts TLS only
(``hostssl`` in pg_hba.conf), with a certificate from a CA made here, shows ``sslmode=verify-full`` with that
CA connecting encrypted, the same DSN with a foreign CA refused, and ``sslmode=disable`` refused by the server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import signal
import ssl
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from laowu.stack.launcher import postgres_answers
from laowu.stack.ports import free_port
from laowu.stack.postgres import PostgresNode
from laowu.stack.processes import spawn, stop_process
from laowu.store.migrate import migrate
from laowu.store.pool import connect, create_pool

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _ca(directory: Path, cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = directory / f"{cn}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def _server_cert(directory: Path, ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    crt, pem = directory / "server.crt", directory / "server.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(_pem_key(key))
    return crt, pem


SSL_REQUEST = 80877103


class TlsFront:
    """PostgreSQL's front door as a server configured with ``hostssl`` only would be: it answers the client's
    SSLRequest with a TLS handshake (our certificate), refuses a client that starts without TLS the way
    PostgreSQL does (FATAL 28000 "no encryption"), and passes the session on to the real server.

    (The embedded PostgreSQL of the local stack is built without SSL, so the TLS end is here; what is tested is
    the client side: what our pools and connections ask for, given ``DATABASE_URL``.)
    """

    def __init__(self, backend_port: int, context: ssl.SSLContext) -> None:
        self.backend_port, self.context = backend_port, context
        self.handshakes = 0
        self.port = 0

    async def start(self) -> asyncio.Server:
        server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            _length, code = struct.unpack("!ii", await reader.readexactly(8))
            if code != SSL_REQUEST:
                fields = b"SFATAL\0VFATAL\0C28000\0Mpg_hba.conf rejects connection: no encryption\0\0"
                writer.write(b"E" + struct.pack("!i", len(fields) + 4) + fields)
                await writer.drain()
                return
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(self.context)
            self.handshakes += 1
            backend_reader, backend_writer = await asyncio.open_connection("127.0.0.1", self.backend_port)
            await asyncio.gather(self._pipe(reader, backend_writer), self._pipe(backend_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # a client that gave up (a refused certificate): nothing to pass on
        finally:
            writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tls_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[TlsFront, Path, Path]]:
    """PostgreSQL behind a TLS-only front door; yields (the door, our CA, a foreign CA)."""
    home = tmp_path_factory.mktemp("pgssl")
    node = PostgresNode(home / "data", port=free_port())
    await asyncio.to_thread(node.init)
    ca_key, ca, ca_path = _ca(home, "laowu-test-ca")
    _, _, foreign = _ca(home, "someone-else-ca")
    crt, key = _server_cert(home, ca_key, ca)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    proc = spawn(node.command(), home / "postgres.log", die_with_parent=True, **node.popen_kwargs())
    front = TlsFront(node.port, context)
    server = await front.start()
    try:
        await node.wait_ready(60, pid=proc.pid)
        yield front, ca_path, foreign
    finally:
        server.close()
        stop_process(proc, signal.SIGINT, timeout=30)


def _url(front: TlsFront, query: str = "") -> str:
    return f"postgresql://postgres@127.0.0.1:{front.port}/laowu" + (f"?{query}" if query else "")


@pytest.mark.asyncio(loop_scope="module")
async def test_verify_full_with_the_ca_from_the_url_connects_over_tls(tls_server) -> None:
    front, ca, _ = tls_server
    dsn = _url(front, f"sslmode=verify-full&sslrootcert={ca}")
    before = front.handshakes
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        assert await pool.fetchval("SELECT 1") == 1
    finally:
        await pool.close()
    conn = await connect(dsn)
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
    assert await migrate(dsn)  # the migrations' own connection, too
    assert await postgres_answers(dsn)  # and the launcher's probe
    assert front.handshakes >= before + 4


@pytest.mark.asyncio(loop_scope="module")
async def test_a_certificate_from_another_ca_is_refused(tls_server) -> None:
    front, _, foreign = tls_server
    dsn = _url(front, f"sslmode=verify-full&sslrootcert={foreign}")
    with pytest.raises(ssl.SSLCertVerificationError):
        await create_pool(dsn, min_size=1, max_size=1)
    assert not await postgres_answers(dsn)


@pytest.mark.asyncio(loop_scope="module")
async def test_sslmode_disable_in_the_url_is_honoured(tls_server) -> None:
    front, _, _ = tls_server
    before = front.handshakes
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        await create_pool(_url(front, "sslmode=disable"), min_size=1, max_size=1)
    assert front.handshakes == before


@pytest.mark.asyncio(loop_scope="module")
async def test_pgsslmode_from_the_environment(tls_server, monkeypatch: pytest.MonkeyPatch) -> None:
    front, ca, foreign = tls_server
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    monkeypatch.setenv("PGSSLROOTCERT", str(foreign))
    with pytest.raises(ssl.SSLCertVerificationError):
        await create_pool(_url(front), min_size=1, max_size=1)
    monkeypatch.setenv("PGSSLROOTCERT", str(ca))
    pool = await create_pool(_url(front), min_size=1, max_size=1)
    await pool.close()
    monkeypatch.setenv("PGSSLMODE", "disable")
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError):
        await create_pool(_url(front), min_size=1, max_size=1)
