"""faust's aiokafka transport with a bounded broker-side fetch wait.

faust builds its consumer with ``fetch_max_wait_ms=1500``, fixed. aiokafka keeps one fetch request in flight
per broker, and leaves out of it every partition whose records the application has not consumed yet; the
partitions drained while that request waits cannot be fetched until it returns — after up to 1.5 s when the
partitions it does name receive nothing. Under a steady 2,000 events/s this turned the statistics into a
2-second beat (chunks for 0.5 s, then 1.2 s of nothing; `make bench` freshness p50 1.45 s against 0.1 s
idle). A short wait keeps every partition's next fetch close; an idle worker pays a fetch per partition set
every ``FETCH_MAX_WAIT_MS``, nothing worth counting.
"""

from __future__ import annotations

from typing import Any, ClassVar

from faust.transport.drivers import aiokafka as driver

FETCH_MAX_WAIT_MS = 100


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read by AIOKafkaConsumer.start() when it builds its Fetcher; the consumer is not started yet. An
        # aiokafka that renamed it must fail here, not silently bring the 1.5 s back.
        if getattr(consumer, "_fetch_max_wait_ms", None) is None:
            raise RuntimeError("aiokafka's consumer has no _fetch_max_wait_ms: update streams/transport.py")
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class _Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(driver.Transport):
    Consumer: ClassVar[Any] = _Consumer
