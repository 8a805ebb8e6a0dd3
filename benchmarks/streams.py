"""The benchmark's event streams, from ``laowu.simulate`` and encoded exactly as the API would publish them.

Encoding (Intake: validation, AES-GCM of ID number and phone, keyed hash, envelope JSON) costs ~90 µs an
event, so chunks are encoded in two worker processes while the main process keeps generating.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from laowu.simulate import Generator, KafkaEncoder, SimConfig, SimEvent

Message = tuple[str, bytes, bytes, bool]  # topic, key, value, a receipt is expected
# The brands' own events: a stream after the mixed one leaves them out (its brands are registered already).
BRAND_EVENTS = ("brand.registered", "brand.status_changed")

_encoder: KafkaEncoder | None = None


def _init(prefix: str) -> None:
    global _encoder
    from laowu.intake import Intake
    from laowu.privacy import Privacy
    from laowu.settings import Settings

    _encoder = KafkaEncoder(Intake(Privacy(Settings())), lambda name: prefix + name)


def _encode(events: list[SimEvent]) -> list[Message]:
    assert _encoder is not None
    return [_encoder.encode(e) for e in events]


@dataclass
class Stream:
    name: str
    lag: int = 0
    messages: list[Message] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def receipts(self) -> int:
        return sum(1 for m in self.messages if m[3])

    def kafka(self) -> list[tuple[str, bytes, bytes]]:
        return [(t, k, v) for t, k, v, _ in self.messages]


class Encoder:
    def __init__(self, prefix: str = "", workers: int = 2) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init, initargs=(prefix,))

    def close(self) -> None:
        self.pool.shutdown()

    def encode(self, name: str, gen: Generator, count: int, skip_types: tuple[str, ...] = (), chunk: int = 5_000) -> Stream:
        futures: list[Future[list[Message]]] = []
        left = count
        while left > 0:
            events = gen.take(min(chunk, left))
            if not events:
                break
            left -= len(events)
            events = [e for e in events if e.type not in skip_types]
            futures.append(self.pool.submit(_encode, events))
        out = Stream(name, gen.cfg.lag)
        for f in futures:
            out.messages.extend(f.result())
        out.summary = gen.summary()
        return out


def worker_id_fn() -> Any:
    from laowu.privacy import Privacy
    from laowu.settings import Settings

    return Privacy(Settings()).worker_id


def mixed(enc: Encoder, events: int, seed: int = 1, skip_types: tuple[str, ...] = ()) -> Stream:
    """Everything a province sends: brands, registrations (~30 %), dispatches, placements, follow-ups…"""
    lag = min(50_000, max(events // 10, 500))
    gen = Generator(SimConfig(workers=int(events * 0.32), seed=seed, total=events, lag=lag), worker_id_fn())
    return enc.encode("mixed" if seed == 1 else f"mixed-{seed}", gen, events, skip_types=skip_types)


def scaling(enc: Encoder, events: int, seed: int) -> Stream:
    """A mixed stream of new people for one replica count of the scaling segments: everything the mixed stream
    sends but the brands' own events (the mixed stream registered the brands: a second registration of each
    would only be refused)."""
    return mixed(enc, events, seed, skip_types=BRAND_EVENTS)


def dispatch_streams(enc: Encoder, events: int, seed: int = 2) -> tuple[Stream, Stream]:
    """(registrations prelude, dispatch/placement/follow-up stream): the prelude registers the people the
    second stream dispatches (brands already exist: the mixed stream registered them)."""
    people = int(events * 0.45)
    lag = min(50_000, max(events // 10, 500))
    gen = Generator(SimConfig(workers=people, seed=seed, total=people + events, lag=lag, registration_share=1.0),
                    worker_id_fn())
    gen.fillers = False
    prelude = enc.encode("registrations", gen, people + 14, skip_types=BRAND_EVENTS)
    gen.registrations = False
    gen.counts.clear()
    return prelude, enc.encode("dispatch", gen, events)


def json_with_event_id(value: bytes) -> bool:
    try:
        return "event_id" in json.loads(value)
    except ValueError:
        return False
