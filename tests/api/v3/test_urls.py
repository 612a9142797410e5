"""`/v3/edit/urls` over HTTP: Domains as the Edit API v3 describes them, and every way to get them wrong."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.api.v3.edit_api import ISO_Z, UNKNOWN_ID, create, messages, secret
from tests.factories import Factory
from versicolor.core.domains import urls as url_service
from versicolor.core.roles import Principal, Role
from versicolor.runtime import Runtime

URL_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "url_group_id",
    "host",
    "domain",
    "enabled",
    "installed_at",
    "first_seen_at",
    "last_seen_at",
    "unlisted",
    "archived_at",
}


async def test_create_shows_every_field_of_the_schema(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    url = await create(client, account, host="https://App.Example.COM:8443/pricing")
    assert set(url) == URL_FIELDS
    assert re.fullmatch(r"[0-9a-f]{24}", url["id"])
    assert url["host"] == "app.example.com" and url["domain"] == "example.com"
    assert url["enabled"] == "on", "the Edit API v3: enabled defaults to on"
    assert url["url_group_id"] is None and url["unlisted"] is False and url["archived_at"] is None
    assert url["installed_at"] is None and url["first_seen_at"] is None and url["last_seen_at"] is None
    assert ISO_Z.fullmatch(url["created_at"]) and url["created_at"] == url["updated_at"]
    shown = await client.get(f"/v3/edit/urls/{url['id']}", headers=secret(account))
    assert shown.status_code == 200
    assert shown.json() == {"url": url}


async def test_bearer_tokens_and_the_secret_parameter_work_beside_the_header(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    account = await factory.account()
    made = await client.post("/v3/edit/urls", json={"host": "example.com"}, headers=account.headers)
    assert made.status_code == 201
    listed = await client.get("/v3/edit/urls", headers=account.headers)
    assert [u["id"] for u in listed.json()["urls"]] == [made.json()["url"]["id"]]
    by_param = await client.get(f"/v3/edit/urls?account_secret={account.account_secret}")
    assert by_param.status_code == 200 and len(by_param.json()["urls"]) == 1


async def test_a_wrong_secret_is_a_403_and_no_credentials_a_401(client: httpx.AsyncClient) -> None:
    wrong = await client.get("/v3/edit/urls", headers={"X-Account-Secret": "nope"})
    assert wrong.status_code == 403 and "account secret" in messages(wrong)
    missing = await client.post("/v3/edit/urls", json={"host": "example.com"})
    assert missing.status_code == 401
    messages(missing)


async def test_a_wrong_secret_beside_a_good_bearer_token_is_a_403_however_its_name_is_written(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # Found by the fuzz stage: a percent-encoded name (`account%5Fsecret`) is the same parameter to every query
    # parser, and was not seen as a secret, so the bearer token beside it answered 200.
    account = await factory.account()
    for query in ("account_secret=junk", "account%5Fsecret=junk", "%61ccount_secret=junk"):
        beside = await client.get(f"/v3/edit/urls?{query}", headers=account.headers)
        assert beside.status_code == 403, query
    good = await client.get(f"/v3/edit/urls?account%5Fsecret={account.account_secret}")
    assert good.status_code == 200
    twice = await client.get(f"/v3/edit/urls?account_secret=junk&account%5Fsecret={account.account_secret}")
    assert twice.status_code == 400 and "more than once" in messages(twice)


async def test_a_viewer_reads_but_cannot_change_urls(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    url = await create(client, account, host="example.com")
    viewer = await factory.member(account, Role.VIEWER)
    assert (await client.get("/v3/edit/urls", headers=viewer.headers)).status_code == 200
    assert (await client.get(f"/v3/edit/urls/{url['id']}", headers=viewer.headers)).status_code == 200
    for method, path, body in [
        ("POST", "/v3/edit/urls", {"host": "other.example.com"}),
        ("PATCH", f"/v3/edit/urls/{url['id']}", {"enabled": "off"}),
        ("PUT", f"/v3/edit/urls/{url['id']}", {"enabled": "off"}),
        ("POST", "/v3/edit/urls/batch", {"ids": [url["id"]], "enabled": "off"}),
    ]:
        refused = await client.request(method, path, json=body, headers=viewer.headers)
        assert refused.status_code == 403, (method, path)
        assert "VIEWER" in messages(refused)
    editor = await factory.member(account, Role.EDITOR)
    assert (await client.patch(f"/v3/edit/urls/{url['id']}", json={}, headers=editor.headers)).status_code == 200


@pytest.mark.parametrize(
    ("given", "host", "domain"),
    [
        ("http://app.example.com", "app.example.com", "example.com"),
        ("app.example.com:8080", "app.example.com", "example.com"),
        ("app.example.com/some/path?x=1", "app.example.com", "example.com"),
        ("APP.Example.Com", "app.example.com", "example.com"),
        ("app.example.com.", "app.example.com", "example.com"),
        ("shop.example.co.uk", "shop.example.co.uk", "example.co.uk"),
        ("bücher.example", "xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("https://www.münchen.de/", "www.xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("192.168.1.10", "192.168.1.10", "192.168.1.10"),
        ("http://[2001:db8::1]:8080/", "2001:db8::1", "2001:db8::1"),
        ("localhost", "localhost", "localhost"),
        ("http://localhost:3000/", "localhost", "localhost"),
    ],
)
async def test_hosts_are_normalised(
    client: httpx.AsyncClient, factory: Factory, given: str, host: str, domain: str
) -> None:
    account = await factory.account()
    url = await create(client, account, host=given)
    assert (url["host"], url["domain"]) == (host, domain)


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("a" * 300 + ".example.com", "a label has at most 63"),
        ("exa mple.com", "not a host name"),
        ("example..com", "empty label"),
        ("co.uk", "public suffix"),
        ("com", "top-level domain"),
        ("example.com:port", "invalid port"),
        ("127.1", "IPv4"),
        (5, "must be a string"),
        (1.5, "must be a string"),
        (True, "must be a string"),
        (None, "must be a string"),
        (["example.com"], "must be a string"),
        ({"host": "example.com"}, "must be a string"),
    ],
)
async def test_bad_hosts_are_a_400_naming_host(
    client: httpx.AsyncClient, factory: Factory, given: object, says: str
) -> None:
    account = await factory.account()
    answer = await client.post("/v3/edit/urls", json={"host": given}, headers=secret(account))
    assert answer.status_code == 400
    text = messages(answer)
    assert text.startswith("host: ") and says in text


async def test_a_missing_host_or_an_unknown_field_is_a_400(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    missing = await client.post("/v3/edit/urls", json={"enabled": "on"}, headers=secret(account))
    assert missing.status_code == 400 and messages(missing) == "host: is required"
    typo = await client.post("/v3/edit/urls", json={"host": "example.com", "enabeld": "on"}, headers=secret(account))
    assert typo.status_code == 400 and "enabeld" in messages(typo)
    not_json = await client.post("/v3/edit/urls", content=b'{"host": "example.com"}', headers=secret(account))
    assert not_json.status_code == 400 and "application/json" in messages(not_json)
    broken = await client.post(
        "/v3/edit/urls", content=b'{"host": ', headers={**secret(account), "Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and "not valid JSON" in messages(broken)
    not_object = await client.post("/v3/edit/urls", json=["example.com"], headers=secret(account))
    assert not_object.status_code == 400


async def test_one_url_per_host_per_account(client: httpx.AsyncClient, factory: Factory) -> None:
    account, other = await factory.account(), await factory.account()
    first = await create(client, account, host="app.example.com")
    for again in ("app.example.com", "https://APP.example.com.:443/x"):
        answer = await client.post("/v3/edit/urls", json={"host": again}, headers=secret(account))
        assert answer.status_code == 409
        assert "app.example.com" in messages(answer) and first["id"] in messages(answer)
    theirs = await create(client, other, host="app.example.com")
    assert theirs["id"] != first["id"]


@pytest.mark.parametrize("enabled", ["off", "on", "subdomain"])
async def test_each_enabled_state_is_accepted(client: httpx.AsyncClient, factory: Factory, enabled: str) -> None:
    account = await factory.account()
    url = await create(client, account, host="example.com", enabled=enabled)
    assert url["enabled"] == enabled


@pytest.mark.parametrize(("given", "stored"), [(True, "on"), (False, "off")])
async def test_enabled_as_a_boolean_reads_as_on_or_off(
    client: httpx.AsyncClient, factory: Factory, given: bool, stored: str
) -> None:
    account = await factory.account()
    url = await create(client, account, host="example.com", enabled=given)
    assert url["enabled"] == stored
    flipped = await client.patch(f"/v3/edit/urls/{url['id']}", json={"enabled": not given}, headers=secret(account))
    assert flipped.json()["url"]["enabled"] == ("off" if given else "on")


@pytest.mark.parametrize("enabled", ["yes", "ON", "", "enabled", 1, 0, None, ["on"], {"on": True}])
async def test_bad_enabled_values_list_the_allowed_ones(
    client: httpx.AsyncClient, factory: Factory, enabled: object
) -> None:
    account = await factory.account()
    url = await create(client, account, host="example.com")
    for method, path, body in [
        ("POST", "/v3/edit/urls", {"host": "other.example.com", "enabled": enabled}),
        ("PATCH", f"/v3/edit/urls/{url['id']}", {"enabled": enabled}),
        ("POST", "/v3/edit/urls/batch", {"ids": [url["id"]], "enabled": enabled}),
    ]:
        answer = await client.request(method, path, json=body, headers=secret(account))
        assert answer.status_code == 400, (method, answer.text)
        assert messages(answer).startswith("enabled: must be one of off, on, subdomain")
    listed = await client.get("/v3/edit/urls", headers=secret(account))
    assert [u["enabled"] for u in listed.json()["urls"]] == ["on"], "nothing was created or changed"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000Z"),
        ("2024-05-01T14:30:00+02:30", "2024-05-01T12:00:00.000Z"),
        ("2024-05-01T07:00:00-05:00", "2024-05-01T12:00:00.000Z"),
        ("2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00.123Z"),
        ("2024-05-01 12:00:00", "2024-05-01T12:00:00.000Z"),
        ("2024-05-01", "2024-05-01T00:00:00.000Z"),
        ("Wed, 01 May 2024 14:00:00 +0200", "2024-05-01T12:00:00.000Z"),
    ],
)
async def test_timestamps_in_other_formats_and_zones_are_stored_in_utc(
    client: httpx.AsyncClient, factory: Factory, given: object, stored: str
) -> None:
    account = await factory.account()
    url = await create(client, account, host="example.com", archived_at=given)
    assert url["archived_at"] == stored and url["unlisted"] is True
    fetched = await client.get(f"/v3/edit/urls/{url['id']}", headers=secret(account))
    assert fetched.json()["url"]["archived_at"] == stored


@pytest.mark.parametrize(
    "given",
    [
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-05-01T25:00:00Z",
        "",
        "null",
        True,
        [],
        {},
        -5,
        1e20,
        # A number is not a date-time, though a query's `before` and `after` take seconds since 1970.
        1.9,
        1714564800,
        "1714564800",
    ],
)
async def test_bad_timestamps_are_a_400_naming_the_field(
    client: httpx.AsyncClient, factory: Factory, given: object
) -> None:
    account = await factory.account()
    url = await create(client, account, host="example.com")
    for method, path, body in [
        ("POST", "/v3/edit/urls", {"host": "other.example.com", "archived_at": given}),
        ("PUT", f"/v3/edit/urls/{url['id']}", {"archived_at": given}),
        ("POST", "/v3/edit/urls/batch", {"ids": [url["id"]], "archived_at": given}),
    ]:
        answer = await client.request(method, path, json=body, headers=secret(account))
        assert answer.status_code == 400, (method, given, answer.text)
        assert messages(answer).startswith("archived_at: ")


async def test_unlisted_is_kept_in_step_with_archived_at(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    url = await create(client, account, host="example.com", unlisted=True)
    assert url["unlisted"] is True and ISO_Z.fullmatch(url["archived_at"])
    path = f"/v3/edit/urls/{url['id']}"
    again = (await client.patch(path, json={"unlisted": True}, headers=secret(account))).json()["url"]
    assert again["archived_at"] == url["archived_at"], "already archived: the archive time stays"
    listed = (await client.patch(path, json={"unlisted": False}, headers=secret(account))).json()["url"]
    assert listed["unlisted"] is False and listed["archived_at"] is None
    archived = await client.patch(path, json={"archived_at": "2024-05-01T12:00:00Z"}, headers=secret(account))
    assert archived.json()["url"]["unlisted"] is True
    unarchived = await client.patch(path, json={"archived_at": None}, headers=secret(account))
    assert unarchived.json()["url"]["unlisted"] is False and unarchived.json()["url"]["archived_at"] is None
    both = await client.patch(
        path, json={"archived_at": "2024-05-01T12:00:00Z", "unlisted": True}, headers=secret(account)
    )
    assert both.status_code == 200 and both.json()["url"]["archived_at"] == "2024-05-01T12:00:00.000Z"
    for clash in ({"archived_at": None, "unlisted": True}, {"archived_at": "2024-05-01T12:00:00Z", "unlisted": False}):
        refused = await client.patch(path, json=clash, headers=secret(account))
        assert refused.status_code == 400 and "unlisted" in messages(refused)
    for bad in ("yes", None, 1):
        refused = await client.patch(path, json={"unlisted": bad}, headers=secret(account))
        assert refused.status_code == 400 and messages(refused).startswith("unlisted: ")


async def test_put_and_patch_change_only_what_they_name(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    url = await create(client, account, host="example.com", enabled="subdomain")
    path = f"/v3/edit/urls/{url['id']}"
    unchanged = (await client.put(path, json={}, headers=secret(account))).json()["url"]
    assert unchanged == url, "a request that changes nothing leaves updated_at alone"
    same = (await client.patch(path, json={"enabled": "subdomain"}, headers=secret(account))).json()["url"]
    assert same["updated_at"] == url["updated_at"]
    put = (await client.put(path, json={"enabled": "off"}, headers=secret(account))).json()["url"]
    assert put["enabled"] == "off" and put["host"] == "example.com" and put["archived_at"] is None
    assert put["updated_at"] > url["updated_at"] and put["created_at"] == url["created_at"]
    patched = (await client.patch(path, json={"unlisted": True}, headers=secret(account))).json()["url"]
    assert patched["enabled"] == "off" and patched["unlisted"] is True
    host_change = await client.patch(path, json={"host": "other.example.com"}, headers=secret(account))
    assert host_change.status_code == 400 and "host" in messages(host_change)


async def test_another_accounts_url_is_not_found(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    url = await create(client, theirs, host="example.com")
    path = f"/v3/edit/urls/{url['id']}"
    for method, body in [("GET", None), ("PUT", {"enabled": "off"}), ("PATCH", {"enabled": "off"})]:
        answer = await client.request(method, path, json=body, headers=secret(mine))
        assert answer.status_code == 404, method
        assert url["id"] in messages(answer)
    for method in ("GET", "PATCH"):
        unknown = await client.request(method, f"/v3/edit/urls/{UNKNOWN_ID}", json={}, headers=secret(mine))
        assert unknown.status_code == 404
    assert (await client.get(path, headers=secret(theirs))).json()["url"]["enabled"] == "on"
    assert (await client.get("/v3/edit/urls", headers=secret(mine))).json()["urls"] == []


@pytest.mark.parametrize("bad_id", ["abc", "5c4950c34733cc0004d5bfdz", "5c4950c34733cc0004d5bfd", "1"])
async def test_a_malformed_id_is_a_400_naming_it(client: httpx.AsyncClient, factory: Factory, bad_id: str) -> None:
    account = await factory.account()
    answer = await client.get(f"/v3/edit/urls/{bad_id}", headers=secret(account))
    assert answer.status_code == 400
    assert messages(answer).startswith("id: ") and "24 hexadecimal digits" in messages(answer)


async def test_urls_move_between_environments(client: httpx.AsyncClient, factory: Factory) -> None:
    account, other = await factory.account(), await factory.account()
    groups = (await client.get("/v3/edit/url_groups", headers=secret(account))).json()["url_groups"]
    default_id = groups[-1]["id"]
    staging = (await client.post("/v3/edit/url_groups", json={"name": "Staging"}, headers=secret(account))).json()[
        "url_group"
    ]
    theirs = (await client.post("/v3/edit/url_groups", json={"name": "Theirs"}, headers=secret(other))).json()[
        "url_group"
    ]
    url = await create(client, account, host="example.com")
    path = f"/v3/edit/urls/{url['id']}"
    moved = await client.patch(path, json={"url_group_id": staging["id"]}, headers=secret(account))
    assert moved.json()["url"]["url_group_id"] == staging["id"]
    back = await client.patch(path, json={"url_group_id": None}, headers=secret(account))
    assert back.json()["url"]["url_group_id"] is None
    await client.patch(path, json={"url_group_id": staging["id"]}, headers=secret(account))
    to_default = await client.patch(path, json={"url_group_id": default_id}, headers=secret(account))
    assert to_default.json()["url"]["url_group_id"] is None, "the Default Environment is url_group_id null"
    foreign = await client.patch(path, json={"url_group_id": theirs["id"]}, headers=secret(account))
    assert foreign.status_code == 404 and theirs["id"] in messages(foreign)
    malformed = await client.patch(path, json={"url_group_id": "staging"}, headers=secret(account))
    assert malformed.status_code == 400 and messages(malformed).startswith("url_group_id: ")
    not_string = await client.patch(path, json={"url_group_id": 7}, headers=secret(account))
    assert not_string.status_code == 400 and messages(not_string).startswith("url_group_id: ")
    await client.patch(
        f"/v3/edit/url_groups/{staging['id']}", json={"archived_at": "2024-05-01T12:00:00Z"}, headers=secret(account)
    )
    archived = await client.patch(path, json={"url_group_id": staging["id"]}, headers=secret(account))
    assert archived.status_code == 409 and "archived" in messages(archived)


async def test_a_new_subdomain_joins_its_domains_environment(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    staging = (await client.post("/v3/edit/url_groups", json={"name": "Staging"}, headers=secret(account))).json()[
        "url_group"
    ]
    await create(client, account, host="example.com", url_group_id=staging["id"])
    inherited = await create(client, account, host="app.example.com")
    assert inherited["url_group_id"] == staging["id"]
    chosen = await create(client, account, host="other.example.com", url_group_id=None)
    assert chosen["url_group_id"] is None
    unrelated = await create(client, account, host="example.org")
    assert unrelated["url_group_id"] is None


async def test_domain_matches_the_domain_and_its_subdomains_only(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    hosts = [
        "ex.io",
        "app.ex.io",
        "dashboard.ex.io",
        "a.b.ex.io",
        "notex.io",
        "app.notex.io",
        "app.example.com",
        "ex.io.evil.com",
        "exxio.com",
        "my_app.io",
        "myxapp.io",
        "sub.my_app.io",
    ]
    for host in hosts:
        await create(client, account, host=host)

    async def on(domain: str) -> list[str]:
        answer = await client.get("/v3/edit/urls", params={"domain": domain}, headers=secret(account))
        assert answer.status_code == 200, answer.text
        return sorted(u["host"] for u in answer.json()["urls"])

    assert await on("ex.io") == ["a.b.ex.io", "app.ex.io", "dashboard.ex.io", "ex.io"]
    assert await on("EX.IO.") == ["a.b.ex.io", "app.ex.io", "dashboard.ex.io", "ex.io"]
    assert await on("*.ex.io") == ["a.b.ex.io", "app.ex.io", "dashboard.ex.io", "ex.io"]
    assert await on("app.ex.io") == ["app.ex.io"]
    assert await on("example.com") == ["app.example.com"]
    assert await on("my_app.io") == ["my_app.io", "sub.my_app.io"], "_ is not a wildcard"
    assert await on("x.io") == []
    assert await on("nothing.example") == []
    for bad in ("", "exa mple.io", "a" * 300 + ".io"):
        answer = await client.get("/v3/edit/urls", params={"domain": bad}, headers=secret(account))
        assert answer.status_code == 400 and messages(answer).startswith("domain: ")


async def test_domain_takes_unicode_and_works_with_paging(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    for host in ("bücher.example", "a.bücher.example", "b.bücher.example", "other.example"):
        await create(client, account, host=host)
    page = await client.get("/v3/edit/urls", params={"domain": "BÜCHER.example", "limit": 2}, headers=secret(account))
    first = page.json()
    assert [u["host"] for u in first["urls"]] == ["b.xn--bcher-kva.example", "a.xn--bcher-kva.example"]
    rest = await client.get(
        "/v3/edit/urls",
        params={"domain": "bücher.example", "limit": 2, "before": first["cursor"]["before"]},
        headers=secret(account),
    )
    assert [u["host"] for u in rest.json()["urls"]] == ["xn--bcher-kva.example"]
    assert rest.json()["cursor"] == {"limit": 2, "before": None}


async def test_list_is_newest_first_with_a_cursor(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    made = [await create(client, account, host=f"h{i}.example.com") for i in range(5)]
    page = (await client.get("/v3/edit/urls?limit=2", headers=secret(account))).json()
    assert [u["id"] for u in page["urls"]] == [made[4]["id"], made[3]["id"]]
    assert page["cursor"] == {"limit": 2, "before": made[3]["id"]}
    default = (await client.get("/v3/edit/urls", headers=secret(account))).json()
    assert len(default["urls"]) == 5 and default["cursor"] == {"limit": 50, "before": None}


@pytest.mark.parametrize("limit", ["0", "501", "-1", "abc", "1.5", "", "10000000000000000000000"])
async def test_limit_outside_1_to_500_is_a_400(client: httpx.AsyncClient, factory: Factory, limit: str) -> None:
    account = await factory.account()
    answer = await client.get("/v3/edit/urls", params={"limit": limit}, headers=secret(account))
    assert answer.status_code == 400
    assert messages(answer).startswith("limit: must be a whole number from 1 to 500")


async def test_limit_of_500_is_allowed(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    answer = await client.get("/v3/edit/urls?limit=500", headers=secret(account))
    assert answer.status_code == 200 and answer.json()["cursor"] == {"limit": 500, "before": None}


@pytest.mark.parametrize("param", ["before", "after"])
@pytest.mark.parametrize(
    "value", ["yesterday", "null", "", "5c4950c34733cc0004d5bfdz", "5c4950c34733cc0004d5bf", "2024-13-45"]
)
async def test_before_and_after_that_are_neither_id_nor_timestamp_are_a_400(
    client: httpx.AsyncClient, factory: Factory, param: str, value: str
) -> None:
    account = await factory.account()
    answer = await client.get("/v3/edit/urls", params={param: value}, headers=secret(account))
    assert answer.status_code == 400
    text = messages(answer)
    assert text.startswith(f"{param}: ") and "neither an id" in text


async def test_before_and_after_take_ids_and_timestamps(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    made = [await create(client, account, host=f"h{i}.example.com") for i in range(4)]
    ids = [u["id"] for u in made]

    async def listed(**params: str) -> list[str]:
        answer = await client.get("/v3/edit/urls", params=params, headers=secret(account))
        assert answer.status_code == 200, answer.text
        return [u["id"] for u in answer.json()["urls"]]

    assert await listed(before=ids[2]) == [ids[1], ids[0]]
    assert await listed(after=ids[1]) == [ids[3], ids[2]]
    assert await listed(after=ids[0], before=ids[3]) == [ids[2], ids[1]]
    assert await listed(before=ids[2].upper()) == [ids[1], ids[0]]
    assert await listed(before=made[2]["created_at"]) == [ids[1], ids[0]]
    assert await listed(after=made[1]["created_at"]) == [ids[3], ids[2]]
    assert await listed(after="2000-01-01T00:00:00Z") == list(reversed(ids))
    assert await listed(before="2000-01-01T00:00:00+02:00") == []
    assert await listed(after="946684800") == list(reversed(ids)), "seconds since 1970"


async def test_a_cursor_walk_over_1000_urls_sees_each_exactly_once(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    account = await factory.account()
    principal = Principal(account_id=account.account_id, user_id=None, role=Role.ADMIN)
    async with runtime.sessions() as session, session.begin():
        made = [
            (await url_service.create(session=session, principal=principal, host=f"h{i}.example.com")).id
            for i in range(1000)
        ]
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 37}
    pages = 0
    while True:
        answer = await client.get("/v3/edit/urls", params=params, headers=secret(account))
        assert answer.status_code == 200
        body = answer.json()
        seen.extend(u["id"] for u in body["urls"])
        pages += 1
        if body["cursor"]["before"] is None:
            break
        assert body["cursor"] == {"limit": 37, "before": body["urls"][-1]["id"]}
        params["before"] = body["cursor"]["before"]
    assert pages == 28  # 27 full pages of 37 and one of 1
    assert len(seen) == len(set(seen)) == 1000
    assert seen == list(reversed(made)), "newest first, in creation order"


async def test_batch_updates_every_listed_url_and_returns_them_all(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    staging = (await client.post("/v3/edit/url_groups", json={"name": "Staging"}, headers=secret(account))).json()[
        "url_group"
    ]
    a = await create(client, account, host="a.example.com", enabled="off")
    b = await create(client, account, host="b.example.com", enabled="on")
    c = await create(client, account, host="c.example.com", enabled="off")
    answer = await client.post(
        "/v3/edit/urls/batch",
        json={"ids": [b["id"], a["id"], b["id"]], "enabled": "on", "url_group_id": staging["id"]},
        headers=secret(account),
    )
    assert answer.status_code == 200, answer.text
    returned = answer.json()["urls"]
    assert set(answer.json()) == {"urls"}
    assert [u["id"] for u in returned] == [b["id"], a["id"]], "each listed Url once, in the order given"
    assert all(u["enabled"] == "on" and u["url_group_id"] == staging["id"] for u in returned)
    assert all(set(u) == URL_FIELDS for u in returned)
    untouched = (await client.get(f"/v3/edit/urls/{c['id']}", headers=secret(account))).json()["url"]
    assert untouched == c
    archived = await client.post(
        "/v3/edit/urls/batch",
        json={"ids": [a["id"], c["id"]], "archived_at": "2024-05-01T12:00:00+02:00"},
        headers=secret(account),
    )
    assert [(u["archived_at"], u["unlisted"]) for u in archived.json()["urls"]] == [
        ("2024-05-01T10:00:00.000Z", True)
    ] * 2
    only_ids = await client.post("/v3/edit/urls/batch", json={"ids": [a["id"]]}, headers=secret(account))
    assert only_ids.status_code == 200 and only_ids.json()["urls"][0]["enabled"] == "on"


async def test_batch_with_an_unknown_or_foreign_id_changes_nothing(client: httpx.AsyncClient, factory: Factory) -> None:
    mine, theirs = await factory.account(), await factory.account()
    a = await create(client, mine, host="a.example.com", enabled="off")
    b = await create(client, mine, host="b.example.com", enabled="off")
    foreign = await create(client, theirs, host="a.example.com", enabled="off")
    for stranger in (foreign["id"], UNKNOWN_ID):
        answer = await client.post(
            "/v3/edit/urls/batch",
            json={"ids": [a["id"], stranger, b["id"]], "enabled": "on", "archived_at": "2024-05-01T12:00:00Z"},
            headers=secret(mine),
        )
        assert answer.status_code == 404
        assert stranger in messages(answer) and a["id"] not in messages(answer)
    for url in (a, b):
        assert (await client.get(f"/v3/edit/urls/{url['id']}", headers=secret(mine))).json()["url"] == url
    assert (await client.get(f"/v3/edit/urls/{foreign['id']}", headers=secret(theirs))).json()["url"] == foreign


async def test_batch_size_is_limited_to_500_ids(client: httpx.AsyncClient, factory: Factory) -> None:
    account = await factory.account()
    ids = [f"{i:024x}" for i in range(10_000)]
    answer = await client.post("/v3/edit/urls/batch", json={"ids": ids, "enabled": "on"}, headers=secret(account))
    assert answer.status_code == 400
    assert messages(answer) == "ids: at most 500 ids per batch (got 10000); split the update"
    just_over = await client.post("/v3/edit/urls/batch", json={"ids": ids[:501]}, headers=secret(account))
    assert just_over.status_code == 400 and "at most 500" in messages(just_over)
    at_most = await client.post("/v3/edit/urls/batch", json={"ids": ids[:500]}, headers=secret(account))
    assert at_most.status_code == 404, "500 ids are accepted (and these are unknown)"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"enabled": "on"}, "ids: is required"),
        ({"ids": [], "enabled": "on"}, "ids: must list at least one"),
        ({"ids": "5c4950c34733cc0004d5bfd7"}, "ids: "),
        ({"ids": ["5c4950c34733cc0004d5bfd7", "nope"]}, "ids[1]: 'nope' is not an id"),
        ({"ids": [7]}, "ids[0]: 7 is not an id"),
        ({"ids": ["5c4950c34733cc0004d5bfd7"], "host": "x.example.com"}, "host"),
    ],
)
async def test_malformed_batches_are_a_400(
    client: httpx.AsyncClient, factory: Factory, body: dict[str, Any], says: str
) -> None:
    account = await factory.account()
    answer = await client.post("/v3/edit/urls/batch", json=body, headers=secret(account))
    assert answer.status_code == 400
    assert says in messages(answer)
