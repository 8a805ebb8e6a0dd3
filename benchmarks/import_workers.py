"""Wall time and peak RSS of importing a 50,000-row registration sheet; prints one JSON object.

What is measured: the import pipeline of ``POST /v1/imports/workers`` — streaming the file (openpyxl
``read_only`` / csv), finding the header, reading every cell, ``WorkerCreate`` + ``Intake.register_worker``
(check digits, ID ↔ sex/birth date, regions, age, phone; AES-GCM encryption of ID and phone, keyed hash),
brand resolution, envelope serialisation, and sealing the rejected rows for the error report.
What is not: Kafka and PostgreSQL. ``publish`` serialises each envelope and drops it; the sink seals the
issues and drops them. The file is generated in a child process so its memory does not count.

    .venv/bin/python benchmarks/import_workers.py [--rows 50000] [--format xlsx|csv] [--invalid-every 50]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from laowu.people import person  # noqa: E402

HEADER = ["身份证号", "姓名", "性别", "出生日期", "手机号", "户籍地", "品牌", "优先群体"]
GROUPS = ["", "", "", "脱贫人口", "残疾人、退役军人"]


def row(n: int, invalid: bool) -> list[str]:
    """The tests' person ``n`` (``laowu.people.person``, unique for n < 480,000) as a register row in a clerk's
    spelling; ``invalid`` breaks the check digit."""
    p = person(n)
    number = p["id_number"]
    if invalid:
        number = number[:17] + ("0" if number[17] != "0" else "1")
    birth = dt.date.fromisoformat(p["birth_date"])
    dates = [birth.isoformat(), f"{birth.year}/{birth.month}/{birth.day}", f"{birth:%Y%m%d}"]
    return [number, p["name"], "男" if p["sex"] == "M" else "女", dates[n % 3], p["phone"], p["household_region"],
            "wenchang-chicken-chef" if n % 4 == 0 else "", GROUPS[n % len(GROUPS)]]


def generate(path: Path, rows: int, invalid_every: int) -> None:
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(HEADER)
            for n in range(rows):
                w.writerow(row(n, invalid_every > 0 and n % invalid_every == 7))
        return
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("登记表")
    ws.append(["劳务人员实名登记表"])
    ws.append(HEADER)
    for n in range(rows):
        ws.append(row(n, invalid_every > 0 and n % invalid_every == 7))
    wb.save(path)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def measure(path: Path) -> dict[str, object]:
    from laowu.imports.pipeline import Outcome, Totals, row_event_id, run_import
    from laowu.imports.service import seal
    from laowu.imports.sheet import Header
    from laowu.imports.workers import Brand, WorkerRows
    from laowu.intake import Intake
    from laowu.privacy import Privacy
    from laowu.settings import Settings
    from schemas.common import Actor
    from schemas.envelope import Envelope

    class Brands:
        async def find(self, keys: set[str]) -> list[Brand]:
            return [Brand("wenchang-chicken-chef", "文昌鸡师傅", "listed")]

    class Sink:
        published = 0
        published_bytes = 0
        chunks = 0

        async def begin(self, header: Header) -> None:
            pass

        async def publish(self, envelopes: list[Envelope]) -> None:
            self.published += len(envelopes)
            self.published_bytes += sum(len(e.to_bytes()) for e in envelopes)

        async def record(self, outcomes: list[Outcome], totals: Totals) -> None:
            self.chunks += 1
            for o in outcomes:
                if o.errors or o.warnings:
                    seal(intake.privacy.cipher, o.row.values)

    intake = Intake(Privacy(Settings()))
    sha = "0" * 64
    processor = WorkerRows(intake, Brands(), workstation_id="ws-460105-01", actor=Actor(role="admin", org="laowu-ops"),
                           event_id=lambda r, part: row_event_id("workers", "ws-460105-01", sha, r, part))
    sink = Sink()
    baseline_kb = _status_kb("VmRSS")
    started = time.perf_counter()
    totals = await run_import(path, path.name, processor, sink)
    seconds = time.perf_counter() - started
    peak_kb = max(_status_kb("VmHWM"), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return {
        "rows": totals.rows, "accepted": totals.accepted, "rejected": totals.rejected,
        "published_events": sink.published, "published_mb": round(sink.published_bytes / 2**20, 1),
        "chunks": sink.chunks, "seconds": round(seconds, 2), "rows_per_second": round(totals.rows / seconds),
        "baseline_rss_mb": round(baseline_kb / 1024, 1), "peak_rss_mb": round(peak_kb / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--invalid-every", type=int, default=50, help="one row in N has a wrong check digit (0: none)")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.rows, args.invalid_every)
        return
    with tempfile.TemporaryDirectory(prefix="laowu-bench-") as tmp:
        path = Path(tmp) / f"workers-{args.rows}.{args.format}"
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--invalid-every", str(args.invalid_every),
                        "--generate", str(path)], check=True, cwd=REPO)
        generated = time.perf_counter() - started
        result = {"benchmark": "import_workers", "format": args.format, "file_mb": round(path.stat().st_size / 2**20, 2),
                  "generate_seconds": round(generated, 2), **asyncio.run(measure(path)),
                  "scope": "parse + validate + build envelopes; publish and issue store faked (no Kafka/PostgreSQL)",
                  "python": platform.python_version(), "cpus": os.cpu_count()}
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
