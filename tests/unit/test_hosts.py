"""`gateway.hosts.parse_authority`: a URL's `host[:port]` is a real host or it is refused (pure)."""

from __future__ import annotations

import pytest

from gateway.hosts import Authority, BadAuthority, parse_authority


@pytest.mark.parametrize(
    ("netloc", "authority"),
    [
        ("planner.example.com", Authority("planner.example.com", None)),
        ("Planner.Example.COM:8443", Authority("Planner.Example.COM", 8443)),
        ("planner.example.com:", Authority("planner.example.com", None)),
        ("xn--bcher-kva.example", Authority("xn--bcher-kva.example", None)),
        ("localhost:3000", Authority("localhost", 3000)),
        ("127.0.0.1:8765", Authority("127.0.0.1", 8765)),
        ("[::1]:9000", Authority("[::1]", 9000)),
        ("[2001:db8::1]", Authority("[2001:db8::1]", None)),
        ("[::ffff:127.0.0.1]", Authority("[::ffff:127.0.0.1]", None)),
        ("a1.b-2.example:0", Authority("a1.b-2.example", 0)),
    ],
)
def test_hosts(netloc: str, authority: Authority) -> None:
    assert parse_authority(netloc) == authority


def test_written_back_as_host_and_port() -> None:
    assert str(parse_authority("[::1]:9000")) == "[::1]:9000"
    assert str(parse_authority("planner.example.com:")) == "planner.example.com"


@pytest.mark.parametrize(
    ("netloc", "words"),
    [
        ("", "must name a host"),
        (":443", "must name a host"),
        ("a;b.example", "must name a host"),
        ("a,b.example", "must name a host"),
        ("a'b.example", "must name a host"),
        ("exa mple.com", "must name a host"),
        ("a\x00b.example", "must name a host"),
        ("under_score.example", "must name a host"),
        ("bücher.example", "punycode"),
        ("xn--zz.example", "must name a host"),
        ("127.1", "dotted-quad"),
        ("0x7f.0.0.1", "dotted-quad"),
        ("1.2.3.4.5", "dotted-quad"),
        ("[::1", "closing bracket"),
        ("[::1;]", "not a valid IPv6"),
        ("[127.0.0.1]", "not a valid IPv6"),
        ("[fe80::1%eth0]", "zone"),
        ("[::1]x", "port"),
        ("[::1]:x", "port"),
        ("planner.example.com:65536", "port"),
        ("planner.example.com:+1", "port"),
        ("planner.example.com:1:2", "port"),
        ("planner.example.com:٣", "port"),
    ],
)
def test_not_hosts(netloc: str, words: str) -> None:
    with pytest.raises(BadAuthority) as raised:
        parse_authority(netloc)
    assert words in str(raised.value)
    assert netloc not in str(raised.value) or not netloc
