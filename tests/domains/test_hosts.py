"""Host names are stored in one form, and their registrable domain comes from the Public Suffix List."""

from __future__ import annotations

import pytest

from versicolor.core.domains import hosts
from versicolor.core.errors import Invalid


@pytest.mark.parametrize(
    ("given", "host", "domain"),
    [
        ("app.example.com", "app.example.com", "example.com"),
        ("App.EXAMPLE.Com", "app.example.com", "example.com"),
        ("https://app.example.com", "app.example.com", "example.com"),
        ("https://App.Example.com:8443/path/page?q=1#top", "app.example.com", "example.com"),
        ("http://user:secret@app.example.com/", "app.example.com", "example.com"),
        ("//cdn.example.com/lib.js", "cdn.example.com", "example.com"),
        ("app.example.com:8080", "app.example.com", "example.com"),
        ("app.example.com.", "app.example.com", "example.com"),
        ("  app.example.com  ", "app.example.com", "example.com"),
        ("app.example.co.uk", "app.example.co.uk", "example.co.uk"),
        ("a.b.c.example.co.uk", "a.b.c.example.co.uk", "example.co.uk"),
        ("bücher.example.de", "bücher.example.de".encode("idna").decode(), "example.de"),
        ("Bücher.de", "xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("http://例子.中国/", "xn--fsqu00a.xn--fiqs8s", "xn--fsqu00a.xn--fiqs8s"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("faß.de", "xn--fa-hia.de", "xn--fa-hia.de"),  # nontransitional, as browsers resolve it
        ("shop.myshopify.com", "shop.myshopify.com", "shop.myshopify.com"),  # private section of the list
        ("x.shop.myshopify.com", "x.shop.myshopify.com", "shop.myshopify.com"),
        ("my_app.example.com", "my_app.example.com", "example.com"),
        ("127.0.0.1", "127.0.0.1", "127.0.0.1"),
        ("http://127.0.0.1:8000/x", "127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1", "::1"),
        ("http://[2001:DB8::1]:8080/", "2001:db8::1", "2001:db8::1"),
        ("2001:db8:0:0:0:0:0:1", "2001:db8::1", "2001:db8::1"),
        ("localhost", "localhost", "localhost"),
        ("http://localhost:3000", "localhost", "localhost"),
        ("app.localhost", "app.localhost", "localhost"),
        ("intranet", "intranet", "intranet"),
        ("app.corp.internal", "app.corp.internal", "corp.internal"),
    ],
)
def test_hosts_are_normalised_and_their_domain_found(given: str, host: str, domain: str) -> None:
    normalized = hosts.normalize(given)
    assert normalized == host
    assert hosts.registrable_domain(normalized) == domain


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("https://", "names no host"),
        ("a" * 300 + ".com", "label of 300 characters; a label has at most 63"),
        (".".join(["a" * 60] * 5), "at most 253"),
        ("example..com", "empty label"),
        (".example.com", "empty label"),
        ("example.com..", "empty label"),
        ("-app.example.com", "not a host name"),
        ("app-.example.com", "not a host name"),
        ("exa mple.com", "not a host name"),
        ("exa*mple.com", "not a host name"),
        ("example.com:99999", "invalid port"),
        ("example.com:http", "invalid port"),
        ("127.1", "not a valid IPv4 address"),
        ("1.2.3.256", "not a valid IPv4 address"),
        ("[::1", "IPv6"),
        ("[::g]", "IPv6"),
        ("1:2:3", "IPv6"),
        ("xn--zz.com", "invalid punycode"),
        ("😀.com", "internationalised"),
    ],
)
def test_hosts_that_cannot_be_hosts_are_refused_naming_the_field(given: str, says: str) -> None:
    with pytest.raises(Invalid) as refused:
        hosts.normalize(given)
    assert refused.value.details[0].field == "host"
    assert says in refused.value.message


@pytest.mark.parametrize("given", [5, 1.5, None, True, ["app.example.com"], {"host": "app.example.com"}])
def test_non_string_hosts_are_refused(given: object) -> None:
    with pytest.raises(Invalid, match="must be a string"):
        hosts.normalize(given)


@pytest.mark.parametrize("given", ["com", "co.uk", "github.io", "myshopify.com"])
def test_a_public_suffix_is_nobody_s_domain(given: str) -> None:
    with pytest.raises(Invalid, match="domain under it"):
        hosts.registrable_domain(hosts.normalize(given))


def test_the_field_named_in_errors_is_the_one_asked_for() -> None:
    with pytest.raises(Invalid) as refused:
        hosts.normalize("", field="domain")
    assert refused.value.message.startswith("domain: ")


@pytest.mark.parametrize(
    ("host", "domain", "expected"),
    [
        ("example.com", "example.com", []),
        ("app.example.com", "example.com", ["example.com"]),
        ("a.b.example.co.uk", "example.co.uk", ["b.example.co.uk", "example.co.uk"]),
        ("app.localhost", "localhost", ["localhost"]),
        ("127.0.0.1", "127.0.0.1", []),
    ],
)
def test_ancestors_run_from_the_parent_up_to_the_domain(host: str, domain: str, expected: list[str]) -> None:
    assert hosts.ancestors(host, domain) == expected
