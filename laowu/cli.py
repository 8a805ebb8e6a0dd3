"""The ``laowu`` command: run the local system and its processes.

``up [--detach]`` / ``down`` / ``status [--json]`` manage the whole local stack
(see :mod:`laowu.stack.launcher`); ``api`` and ``consume NAME`` are the process
entry points the supervisor runs; ``migrate``, ``topics create`` and
``schemas export`` are one-shot operator tasks.  Heavy modules are imported
inside each command so ``laowu status`` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from laowu.auth import ROLES
from laowu.settings import Settings, get_settings

if TYPE_CHECKING:
    from laowu.stack.launcher import Stack

#: Export format version of the JSON Schemas (``<type>.v1.json``).
SCHEMA_FILE_VERSION = 1


def _stack(settings: Settings, demo: bool = False) -> Stack:
    from laowu.stack.launcher import Stack

    return Stack(settings, demo=demo)


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    if args.brokers is not None:
        settings = settings.model_copy(update={"kafka_brokers": args.brokers})
    stack = _stack(settings, demo=args.demo)
    return int(stack.up_detached() if args.detach else stack.up())


def cmd_down(args: argparse.Namespace, settings: Settings) -> int:
    return int(_stack(settings).down())


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    return int(_stack(settings).status(as_json=args.json))


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    from api.server import serve

    serve(settings)
    return 0


def cmd_consume(args: argparse.Namespace, settings: Settings) -> int:
    from consumers.runner import run
    from laowu import metrics

    metrics.serve(settings.metrics_port, settings.metrics_host)
    run(args.name, settings, relay=not args.no_relay)
    return 0


def _require(value: str | None, name: str, settings: Settings, key: str) -> str:
    """The env value, else the running local stack's (so `laowu migrate` just works after `up`)."""
    if value:
        return value
    doc = _stack(settings).status_document() or {}
    if doc.get(key):
        return str(doc[key])
    raise SystemExit(f"{name} is not set and no local stack is running (`laowu up --detach` starts one)")


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from laowu.store.migrate import afterwards, migrate

    dsn = _require(settings.database_url, "DATABASE_URL", settings, "database_url")
    applied = asyncio.run(migrate(dsn))
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    for todo in asyncio.run(afterwards(dsn, applied)):
        print(f"then: {todo}")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from laowu.backup import BackupError, backup

    dsn = _require(settings.database_url, "DATABASE_URL", settings, "database_url")
    try:
        out = backup(dsn, args.out)
    except BackupError as exc:
        raise SystemExit(f"backup failed: {exc}") from None
    print(f"wrote {out} ({out.stat().st_size:,} bytes); keep LAOWU_ENCRYPTION_KEYS apart from it")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from laowu.backup import BackupError, restore

    dsn = _require(settings.database_url, "DATABASE_URL", settings, "database_url")
    try:
        asyncio.run(restore(dsn, args.dump))
    except BackupError as exc:
        raise SystemExit(f"restore failed: {exc}") from None
    print("restored; start the ledger consumer: it re-applies from Kafka what was accepted after the dump")
    return 0


def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    """Replay the source topics into an empty database (``laowu.rebuild``) with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from laowu.rebuild import RebuildError, rebuild

    settings = settings.model_copy(update={
        "kafka_bootstrap": _require(settings.kafka_bootstrap, "KAFKA_BOOTSTRAP", settings, "kafka_bootstrap")})
    with Progress(TextColumn("rebuilding the ledger from Kafka"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("replay", total=None)
        try:
            report = asyncio.run(rebuild(settings, args.into,
                                         lambda done, total: bar.update(task, completed=done, total=total)))
        except RebuildError as exc:
            raise SystemExit(f"rebuild failed: {exc}") from None
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(f"replayed {report.events:,} events in {report.seconds:.1f}s; "
              + ", ".join(f"{t} {n:,}" for t, n in report.rows.items()))
    return 0


def cmd_topics_create(args: argparse.Namespace, settings: Settings) -> int:
    from laowu.kafka_security import KafkaSecurity
    from laowu.stack.kafka import create_topics
    from laowu.stack.launcher import catalogue_specs

    specs = catalogue_specs(settings)  # replication from LAOWU_KAFKA_BROKERS
    bootstrap = _require(settings.kafka_bootstrap, "KAFKA_BOOTSTRAP", settings, "kafka_bootstrap")
    asyncio.run(create_topics(bootstrap, specs, KafkaSecurity.from_settings(settings)))
    print("topics present: " + ", ".join(s.name for s in specs))
    return 0


def cmd_schemas_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the wire contracts as JSON Schema, for producers outside Python."""
    from schemas.envelope import Envelope
    from schemas.events import PAYLOADS
    from schemas.topics import CATALOGUE

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, object] = {
        f"{event_type}.v{SCHEMA_FILE_VERSION}.json": model.model_json_schema()
        for event_type, model in PAYLOADS.items()
    }
    files["envelope.json"] = Envelope.model_json_schema()
    files["topics.json"] = [
        {
            "name": t.name,
            "partitions": t.partitions,
            "key": t.key,
            "events": list(t.events),
            "retention_ms": t.retention_ms,
            "compacted": t.compacted,
            "description": t.description,
        }
        for t in CATALOGUE
    ]
    for name, doc in files.items():
        (out / name).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(files)} files to {out}")
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from laowu.auth import issue

    try:
        token = issue(settings, role=args.role, org=args.org, region=args.region, ttl_s=args.ttl)
    except ValueError as exc:
        print(f"laowu token: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def read_password(args: argparse.Namespace) -> str:
    """The new account's password from ``--password-file`` or standard input, never from the command line (argv is
    visible to every user of the machine in ``ps`` and kept in shell histories). One line; its line end is not part
    of it. At a terminal it is asked for twice, without echo."""
    if args.password_file is not None:
        text = args.password_file.read_text(encoding="utf-8")
        return text.splitlines()[0] if text.splitlines() else ""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise SystemExit("laowu account create: the two passwords differ")
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def cmd_account_create(args: argparse.Namespace, settings: Settings) -> int:
    """Create an account for a person (the first admin, typically) straight in the database, audited as the CLI."""
    import getpass

    from laowu.application import accounts
    from laowu.application.errors import Conflict
    from laowu.intake import InvalidRequest
    from laowu.store import queries
    from laowu.store.pool import create_pool
    from schemas.common import Actor

    password = read_password(args)
    dsn = _require(settings.database_url, "DATABASE_URL", settings, "database_url")
    operator = Actor(role="admin", org="laowu-cli", subject=f"cli:{getpass.getuser()}")

    async def create() -> int:
        pool = await create_pool(dsn, min_size=1, max_size=2, translate=True)
        try:
            async def audit(actor: Actor | None, action: str, detail: dict[str, object]) -> None:
                who = actor or operator
                await queries.audit(pool, actor=who.subject or who.org, role=who.role, org=who.org, action=action,
                                    detail=detail)

            door = accounts.Door(pool, settings, audit)
            try:
                account = await accounts.create(door, operator, username=args.username,
                                                display_name=args.display_name or args.username, role=args.role,
                                                org=args.org, region=args.region, password=password)
            except InvalidRequest as exc:
                for e in exc.errors:
                    print(f"laowu account create: {e.field}: {e.message_zh or ''} ({e.message})", file=sys.stderr)
                return 2
            except Conflict as exc:
                print(f"laowu account create: {exc.reason}", file=sys.stderr)
                return 1
            print(f"created account {account.username} ({account.role}, {account.org}"
                  + (f", {account.region}" if account.region else "") + ")")
            return 0
        finally:
            await pool.close()

    return asyncio.run(create())


def cmd_streams_worker(args: argparse.Namespace, settings: Settings) -> int:
    from laowu import metrics
    from streams.app import run_worker

    metrics.serve(settings.metrics_port, settings.metrics_host)
    run_worker(settings)
    return 0


def cmd_stats_recount(args: argparse.Namespace, settings: Settings) -> int:
    """Recompute every streamed figure from the ledger; report drift (exit 1), correct it with --fix."""
    from streams.recount import recount

    settings = settings.model_copy(update={
        "database_url": _require(settings.database_url, "DATABASE_URL", settings, "database_url"),
        "kafka_bootstrap": _require(settings.kafka_bootstrap, "KAFKA_BOOTSTRAP", settings, "kafka_bootstrap")})
    report = asyncio.run(recount(settings, fix=args.fix))
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for d in report.drift[:50]:
            print(f"drift {d['dim']}:{d['key'] or '-'} {d['month'] or 'all-time'} {d['metric']}: "
                  f"stored {d['stored']}, recount {d['recount']}")
        cut = "consistent cut" if report.consistent_cut else (
            f"NOT a consistent cut (in flight: outbox {report.outbox_pending}, kafka lag {report.kafka_lag})")
        action = "corrected" if report.corrected else "not corrected" if report.drift else "no drift"
        print(f"{report.cells} figures checked, {len(report.drift)} drifted, {action}; {cut}")
        flows = report.flows  # 劳务流向 (issue 19), checked at the same cut
        print(f"flows: {flows.get('cells', 0)} cells checked, {flows.get('drift_count', 0)} drifted"
              + (", corrected" if flows.get("corrected") else ""))
    if not report.consistent_cut:
        return 2
    flow_drift = report.flows.get("drift_count", 0) and not report.flows.get("corrected")
    return 1 if (report.drift and not report.corrected) or flow_drift else 0


def cmd_import_workers(args: argparse.Namespace, settings: Settings) -> int:
    """Upload a workstation's register; the API validates each row exactly as ``POST /v1/workers`` does."""
    from laowu.imports.cli import import_workers

    api_url = args.api_url or f"http://{settings.api_host}:{settings.api_port}"
    return import_workers(args.file, api_url, args.workstation, token=args.token)


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    """Realistic traffic from many workstations and employers (see laowu.simulate); JSON summary on the last line."""
    from laowu.simulate import main as simulate

    return simulate(args.workers, args.rate, args.duration, args.via, args.seed, args.api_url,
                    lag_seconds=args.lag, anchor=args.anchor, concurrency=args.concurrency)


def cmd_import_dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Upload a dispatch list: one sheet, one organized output, its workers by ID number."""
    from laowu.imports.cli import import_dispatch

    api_url = args.api_url or f"http://{settings.api_host}:{settings.api_port}"
    return import_dispatch(args.file, api_url, args.workstation, token=args.token)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="laowu", description="Laowu labor-dispatch platform")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace, Settings], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    up = add("up", cmd_up, "start Kafka, PostgreSQL and the services; supervise them")
    up.add_argument("--detach", "-d", action="store_true", help="run in the background; return once ready")
    up.add_argument("--demo", action="store_true", help="load a small demo data set through the API once it is up")
    up.add_argument("--brokers", type=int, choices=range(1, 10), metavar="N", default=None,
                    help="Kafka nodes to run as one KRaft quorum (default LAOWU_KAFKA_BROKERS, 1); 3 gives every "
                         "topic 3 replicas with min.insync.replicas=2")
    add("down", cmd_down, "stop everything `laowu up` started")
    status = add("status", cmd_status, "show what runs where (exit code 3 when not running)")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    add("api", cmd_api, "run the HTTP API (foreground)")
    consume = add("consume", cmd_consume, "run a consumer (foreground)")
    consume.add_argument("name", help="ledger, or relay (outbox relay + deadline sweeper only)")
    consume.add_argument("--no-relay", action="store_true",
                         help="ledger without its outbox relay and sweeper (run `consume relay` beside it)")
    add("migrate", cmd_migrate, "apply SQL migrations to DATABASE_URL")
    reb = add("rebuild", cmd_rebuild, "rebuild the ledger, receipts, history and statistics from the Kafka topics alone")
    reb.add_argument("--into", required=True, help="URL of an EMPTY PostgreSQL database to rebuild into")
    reb.add_argument("--json", action="store_true", help="the report as JSON")
    bak = add("backup", cmd_backup, "pg_dump the whole database (DATABASE_URL) to a file")
    bak.add_argument("--out", type=Path, required=True, help="the dump file to write (custom format)")
    res = add("restore", cmd_restore, "load a dump into an EMPTY database (DATABASE_URL), all or nothing")
    res.add_argument("dump", type=Path, help="a file written by `laowu backup`")
    imp = sub.add_parser("import", help="bulk imports from Excel/CSV")
    imp_sub = imp.add_subparsers(dest="kind", required=True, metavar="KIND")
    workers = imp_sub.add_parser("workers", help="upload a registration register (.xlsx or .csv) with a progress bar")
    workers.add_argument("file", type=Path)
    workers.add_argument("--workstation", default="", help="workstation id (only an admin credential needs it)")
    workers.add_argument("--token", default=None, help="bearer token (default $LAOWU_TOKEN)")
    workers.add_argument("--api-url", default=None, help="default http://LAOWU_API_HOST:LAOWU_API_PORT")
    workers.set_defaults(func=cmd_import_workers)
    dispatch = imp_sub.add_parser("dispatch", help="upload a dispatch list (.xlsx or .csv) with a progress bar")
    dispatch.add_argument("file", type=Path)
    dispatch.add_argument("--workstation", default="", help="workstation id (only an admin credential needs it)")
    dispatch.add_argument("--token", default=None, help="bearer token (default $LAOWU_TOKEN)")
    dispatch.add_argument("--api-url", default=None, help="default http://LAOWU_API_HOST:LAOWU_API_PORT")
    dispatch.set_defaults(func=cmd_import_dispatch)
    token = add("token", cmd_token, "issue a bearer token (operators and tests); printed on the last line")
    token.add_argument("--role", required=True, choices=list(ROLES))
    token.add_argument("--org", required=True, help="organization id: workstation_id, employer_id or bureau id")
    token.add_argument("--region", help="GB/T 2260 jurisdiction (required except for admin)")
    token.add_argument("--ttl", type=int, default=None, help="lifetime in seconds (default LAOWU_TOKEN_TTL_S)")
    account = sub.add_parser("account", help="accounts for people (sign-in with a password)")
    account_sub = account.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = account_sub.add_parser(
        "create", help="create an account (the first admin: --role admin)",
        description="Create an account for a person in DATABASE_URL (or the running local stack's database). The "
                    "password is read from --password-file or from standard input (asked twice, without echo, at a "
                    "terminal) and never taken from the command line, where `ps` and shell histories would show it. "
                    "10-128 characters, not only digits, not the user name.")
    create.add_argument("--username", required=True, help="2-64 lower-case letters, digits, '.', '_' or '-'")
    create.add_argument("--role", required=True, choices=list(ROLES))
    create.add_argument("--org", required=True, help="organization id: workstation_id, employer_id or bureau id")
    create.add_argument("--region", help="GB/T 2260 jurisdiction (required except for admin)")
    create.add_argument("--display-name", help="the name shown in the console (default: the user name)")
    create.add_argument("--password-file", type=Path, default=None,
                        help="read the password from the first line of this file instead of standard input")
    create.set_defaults(func=cmd_account_create)
    sim = add("simulate", cmd_simulate, "generate realistic traffic (registrations, dispatches, placements, follow-ups)")
    sim.add_argument("--workers", type=int, default=10_000, help="distinct people (default 10000)")
    sim.add_argument("--rate", type=float, default=500.0, help="events per second (default 500)")
    sim.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    sim.add_argument("--via", choices=["api", "kafka"], default="api", help="POST /v1/events:batch, or produce directly")
    sim.add_argument("--seed", type=int, default=2026, help="same seed (and anchor) → same event stream")
    sim.add_argument("--api-url", default=None, help="default: the running stack's API")
    sim.add_argument("--lag", type=float, default=5.0, help="seconds between an event and those that need it applied")
    sim.add_argument("--anchor", default=None, help="field time ends here (YYYY-MM-DD; default today, UTC)")
    sim.add_argument("--concurrency", type=int, default=4, help="batches in flight (--via api)")

    topics = sub.add_parser("topics", help="Kafka topics of the catalogue")
    topics_sub = topics.add_subparsers(dest="action", required=True, metavar="ACTION")
    topics_sub.add_parser("create", help="create missing topics on KAFKA_BOOTSTRAP").set_defaults(
        func=cmd_topics_create
    )

    streams = sub.add_parser("streams", help="stream processors (faust)")
    streams_sub = streams.add_subparsers(dest="action", required=True, metavar="ACTION")
    streams_sub.add_parser("worker", help="run the statistics processor (foreground)").set_defaults(
        func=cmd_streams_worker
    )
    stats = sub.add_parser("stats", help="output statistics")
    stats_sub = stats.add_subparsers(dest="action", required=True, metavar="ACTION")
    recount = stats_sub.add_parser("recount", help="recompute the figures from the ledger and report drift")
    recount.add_argument("--fix", action="store_true", help="correct the drifted figures")
    recount.add_argument("--json", action="store_true", help="machine-readable report")
    recount.set_defaults(func=cmd_stats_recount)

    schemas = sub.add_parser("schemas", help="wire contracts")
    schemas_sub = schemas.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = schemas_sub.add_parser("export", help="write JSON Schema files")
    export.add_argument("--out", type=Path, default=Path("schemas/json"), help="directory (default schemas/json/)")
    export.set_defaults(func=cmd_schemas_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from laowu import logs

    logs.configure()
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    return func(args, get_settings())


if __name__ == "__main__":
    sys.exit(main())
