"""The address guard alone: every spelling of an internal address is recognised and refused."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from index.ingest.web.guard import (
    AddressPolicy,
    BlockedAddressError,
    check_url,
    guarded_socket,
    internal_kind,
    parse_ip_literal,
)

DEFAULT = AddressPolicy()


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # decimal
        ("0x7f000001", "127.0.0.1"),  # hex
        ("0X7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("0177.0000.0000.0001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),  # short forms
        ("127.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),  # octal, one part
        ("0", "0.0.0.0"),
        ("0.0.0.0", "0.0.0.0"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ("169.254.169.254", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("10.0.0.1", "10.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),  # a trailing dot
    ],
)
def test_every_spelling_of_an_ip_address_is_read(host: str, address: str) -> None:
    assert parse_ip_literal(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "host", ["example.org", "news.example", "1.2.3.4.5", "256.1.1.1", "0x1g.0.0.1", "08.0.0.1"]
)
def test_host_names_and_invalid_numbers_are_not_addresses(host: str) -> None:
    assert parse_ip_literal(host) is None


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not a public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("198.18.0.1", "private"),  # benchmarking
    ],
)
def test_internal_addresses_are_named(address: str, kind: str) -> None:
    found = internal_kind(ipaddress.ip_address(address))
    assert found is not None and kind in found


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert internal_kind(ipaddress.ip_address(address)) is None
    DEFAULT.check_address(ipaddress.ip_address(address), address)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1/", "127.0.0.1: a loopback address"),
        ("http://2130706433/admin", "2130706433 (127.0.0.1): a loopback address"),
        ("http://0x7f000001/", "(127.0.0.1): a loopback address"),
        ("http://[::1]:8080/", "::1: a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://0.0.0.0/", "an unspecified address"),
        ("ftp://example.org/file", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http:///nohost", "no host"),
    ],
)
def test_check_url_refuses_with_a_sentence_that_says_why(url: str, words: str) -> None:
    with pytest.raises(BlockedAddressError) as caught:
        check_url(url, DEFAULT)
    assert words in str(caught.value)
    if "address" in words:
        assert "CITEBOT_ALLOW_PRIVATE_URLS=true" in str(caught.value)


def test_allowing_private_urls_lifts_the_address_check_but_not_the_scheme() -> None:
    lenient = AddressPolicy(allow_private=True)
    assert check_url("http://127.0.0.1:8080/x", lenient).port == 8080
    with pytest.raises(BlockedAddressError):
        check_url("file:///etc/passwd", lenient)


def test_the_socket_factory_refuses_the_address_actually_connected_to() -> None:
    factory = guarded_socket(DEFAULT)
    with pytest.raises(BlockedAddressError, match="loopback"):
        factory((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)))
    with pytest.raises(BlockedAddressError, match="loopback"):
        factory((socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 80, 0, 0)))
    sock = factory((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)))
    sock.close()
