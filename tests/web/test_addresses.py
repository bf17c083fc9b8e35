"""The address policy: every non-public address class is refused (as a literal and behind a name), embedded
IPv4 forms are judged by what they embed, metadata stays refused even when private addresses are allowed."""

from __future__ import annotations

import ipaddress

import pytest

from llm_twin.web import AddressPolicy, Fetcher, FetchError, FetchLimits, classify

REFUSED = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "169.254.1.1": "link-local",
    "169.254.169.254": "cloud metadata",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "0.0.0.0": "unspecified",
    "224.0.0.1": "multicast",
    "240.0.0.1": "reserved",
    "192.0.2.10": "private",  # documentation range (the stdlib files it under private)
    "198.18.0.1": "private",  # benchmarking
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "fd00:ec2::254": "cloud metadata",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "IPv4-mapped address of 127.0.0.1 (loopback)",
    "::ffff:10.0.0.5": "IPv4-mapped address of 10.0.0.5 (private)",
    "::ffff:169.254.169.254": "cloud metadata",
    "2002:7f00:1::1": "6to4 address embedding 127.0.0.1 (loopback)",
    "2002:a9fe:a9fe::1": "6to4 address embedding 169.254.169.254 (cloud metadata)",
    "2002:6440:1::1": "6to4 address embedding 100.64.0.1 (carrier-grade NAT",
    "64:ff9b::7f00:1": "NAT64 address embedding 127.0.0.1 (loopback)",
    # Teredo: server 65.54.227.120, client (obfuscated) 127.0.0.1 / a public one
    "2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo address embedding 127.0.0.1 (loopback)",
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7": "Teredo address not globally routable",
}
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"]


@pytest.mark.parametrize(("address", "label"), sorted(REFUSED.items()))
def test_each_non_public_class_is_classified(address, label):
    assert label in (classify(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert classify(ipaddress.ip_address(address)) is None
    assert AddressPolicy().refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_fetch_refuses_each_class_as_literal_and_behind_a_name(address, dns):
    """No connection is attempted: the refusal comes from the policy, before any socket is opened."""
    fetcher = Fetcher(AddressPolicy.of(False, setting="crawl.allow_private_addresses"))
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(FetchError) as err:
        fetcher.get(f"http://{host}:9/x", FetchLimits(total_timeout_s=2))
    assert err.value.reason == "private_address" and err.value.refused
    assert "non-public address" in err.value.message
    dns.set("internal.test", [address])
    with pytest.raises(FetchError) as err:
        fetcher.get("http://internal.test:9/x", FetchLimits(total_timeout_s=2))
    assert err.value.reason == "private_address"
    assert f"internal.test resolves to {ipaddress.ip_address(address)}" in err.value.message
    if "metadata" not in REFUSED[address]:
        assert "crawl.allow_private_addresses" in err.value.message


def test_one_private_address_among_public_ones_refuses_the_host(dns):
    dns.set("mixed.test", ["8.8.8.8", "10.0.0.7"])
    with pytest.raises(FetchError) as err:
        Fetcher(AddressPolicy()).get("http://mixed.test/", FetchLimits(total_timeout_s=2))
    assert err.value.reason == "private_address" and "10.0.0.7" in err.value.message


def test_numeric_host_forms_are_judged_by_the_address_they_resolve_to():
    # 2130706433 == 0x7f000001: the system resolver turns it into 127.0.0.1
    with pytest.raises(FetchError) as err:
        Fetcher(AddressPolicy()).get("http://2130706433:9/", FetchLimits(total_timeout_s=2))
    assert err.value.reason == "private_address" and "127.0.0.1" in err.value.message


def test_allow_private_and_allowed_networks():
    metadata = ipaddress.ip_address("169.254.169.254")
    everything = AddressPolicy.of(True)
    assert everything.refusal(ipaddress.ip_address("10.0.0.1")) is None
    assert everything.refusal(ipaddress.ip_address("::1")) is None
    assert everything.refusal(metadata) == "cloud metadata"  # never, whatever is allowed
    assert everything.refusal(ipaddress.ip_address("2002:a9fe:a9fe::1")) is not None
    intranet = AddressPolicy.of(False, ["10.20.0.0/16", "169.254.0.0/16"])
    assert intranet.refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert intranet.refusal(ipaddress.ip_address("10.21.0.1")) == "private"
    assert intranet.refusal(metadata) == "cloud metadata"
    with pytest.raises(ValueError, match="allowed_networks"):
        AddressPolicy.of(False, ["not-a-network"])
