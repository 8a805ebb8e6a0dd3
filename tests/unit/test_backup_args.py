"""``laowu backup``/``restore`` never put the database password on a command line (every user of the machine can read
argv): it travels as PGPASSWORD."""

from __future__ import annotations

from laowu.backup import _split_password


def test_the_password_leaves_the_url_for_the_environment() -> None:
    url, env = _split_password("postgresql://laowu:s3cr%21t@db.internal:5432/laowu?sslmode=verify-full")
    assert "s3cr" not in url and url == "postgresql://laowu@db.internal:5432/laowu?sslmode=verify-full"
    assert env == {"PGPASSWORD": "s3cr!t"}


def test_a_url_without_a_password_is_kept() -> None:
    assert _split_password("postgresql://postgres@127.0.0.1:5432/laowu") == ("postgresql://postgres@127.0.0.1:5432/laowu", {})


def test_an_ipv6_host_keeps_its_brackets() -> None:
    assert _split_password("postgresql://u:p@[::1]:5432/laowu")[0] == "postgresql://u@[::1]:5432/laowu"
