"""``make bench``: throughput and latency of Laowu against this machine's own limits (see ``benchmarks.run``)."""
