"""Where a ledger consumer's time goes, from py-spy's raw samples (one JSON object)::

    LAOWU_BENCH_PYSPY=1 LAOWU_BENCH_KEEP=1 LAOWU_BENCH_ONLY=ledger python -m benchmarks.run
    python -m benchmarks.pyspy_shares /tmp/laowu-bench-*/logs/ledger-consumer-mixed.pyspy [more files]

Each sample is attributed to the first step of a batch found on its stack, outermost first: decoding the
messages, loading what they name, the pure decision, saving it; what is in none of them (polling Kafka, the
commit, idle waits) is ``other``. Shares are of all samples of the given files.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

STEPS = (
    ("decode", (("LedgerConsumer.decode", "consumers/ledger.py"), ("publication_order", "consumers/base.py"))),
    ("identity check", (("LedgerConsumer._check_identity", "consumers/ledger.py"),)),
    ("load", (("Repository.load", "laowu/ledger/repository.py"),
              ("PostgresLedger.decided_events", "laowu/ledger/postgres.py"))),
    ("decide", (("decide", "laowu/ledger/decide.py"),)),
    ("save", (("PostgresLedger.save", "laowu/ledger/postgres.py"),)),
    ("metrics", (("LedgerConsumer.committed", "consumers/ledger.py"),)),
)
"""(step, the (function, file) frames that open it)."""


def frame_of(text: str) -> tuple[str, str]:
    """``name (path:line)`` → (name, path)."""
    name, _, rest = text.partition(" (")
    return name.strip(), rest.rsplit(":", 1)[0]


def step_of(frames: list[str]) -> str:
    for text in frames:
        name, path = frame_of(text)
        for step, openers in STEPS:
            if any(name == fn and path.endswith(file) for fn, file in openers):
                return step
    return "other"


def shares(paths: list[Path]) -> dict[str, object]:
    counts: Counter[str] = Counter()
    for path in paths:
        for line in path.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if stack and n.isdigit():
                counts[step_of(stack.split(";"))] += int(n)
    total = sum(counts.values())
    return {"samples": total,
            "share": {step: round(n / total, 3) for step, n in counts.most_common()} if total else {}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    print(json.dumps(shares(parser.parse_args().files)))


if __name__ == "__main__":
    main()
