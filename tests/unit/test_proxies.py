"""The client address behind trusted proxies: X-Forwarded-For walked right to left, only through trusted hops."""

from __future__ import annotations

from api.proxies import client_of, parse_networks

NETS = parse_networks("10.0.0.0/8, 192.168.1.7")


def test_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert client_of("203.0.113.5", "1.2.3.4", NETS) == "203.0.113.5"


def test_trusted_proxy_reports_the_client() -> None:
    assert client_of("10.1.2.3", "198.51.100.9", NETS) == "198.51.100.9"


def test_a_spoofed_left_entry_is_ignored() -> None:
    # the client wrote "1.1.1.1" itself; our proxy appended the address it saw
    assert client_of("10.1.2.3", "1.1.1.1, 198.51.100.9", NETS) == "198.51.100.9"


def test_chain_of_trusted_hops_is_walked() -> None:
    assert client_of("10.1.2.3", "1.1.1.1, 198.51.100.9, 192.168.1.7, 10.9.9.9", NETS) == "198.51.100.9"


def test_no_trusted_proxies_configured_means_the_peer() -> None:
    assert client_of("10.1.2.3", "198.51.100.9", parse_networks("")) == "10.1.2.3"
