"""Preview links: `GET /experiments/simulate/{id}` and the engine showing one variation, untracked."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from playwright.async_api import BrowserContext, Page

from tests.engine.pages import PageServer
from tests.engine.shop import live_shop, stored_events
from tests.factories import Factory
from tests.server import Server
from tests.tracking.fixtures import shop
from versicolor.core.roles import Role
from versicolor.engine import preview
from versicolor.runtime import Runtime

JSON = {"Accept": "application/json"}


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)[preview.PARAMETER][0]


async def test_simulate_answers_a_link_per_variation_on_the_experiments_page(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    made = await shop(client, factory, activate=False)
    viewer = await factory.member(made.account, Role.VIEWER)
    answer = await client.get(f"/experiments/simulate/{made.experiment_id}", headers={**viewer.headers, **JSON})
    assert answer.status_code == 200, answer.text
    links = answer.json()
    assert [(x["variationId"], x["variationName"]) for x in links] == [
        (0, "Original"),
        (made.variation_ids[0], "Green"),
        (made.variation_ids[1], "Blue"),
    ]
    for link in links:
        assert link["url"].startswith("https://shop.example/cart?versicolor_preview=")
        assert link["experimentId"] == made.experiment_id and link["expiresAt"].endswith("Z")


async def test_simulate_answers_the_first_variations_link_as_text_unless_json_alone_is_asked(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    made = await shop(client, factory, activate=False)
    path = f"/experiments/simulate/{made.experiment_id}"
    # Kameleoon's clients read the answer as text and open it: one link, the first variation's.
    for accept in (None, "*/*", "text/plain", "application/json, text/plain, */*", "text/*;q=0.5, application/json"):
        headers = made.account.headers if accept is None else {**made.account.headers, "Accept": accept}
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain"), (accept, answer)
        link = answer.text
        assert link.startswith("https://shop.example/cart?versicolor_preview="), (accept, link)
        shown = await client.get(
            f"/data/v1/sites/{made.code}/preview",
            params={"token": token_of(link)},
            headers={"Origin": "https://shop.example"},
        )
        assert shown.status_code == 200 and shown.json()["variationId"] == made.variation_ids[0], shown.text
    for accept in ("application/json", "application/json, text/plain;q=0"):
        listed = await client.get(path, headers={**made.account.headers, "Accept": accept})
        assert [x["variationId"] for x in listed.json()] == [0, *made.variation_ids], (accept, listed.text)
    # Without variations, the one link is the original's.
    bare = await client.post(
        "/experiments",
        json={"name": "Bare", "siteId": made.site_id, "baseURL": "https://shop.example/", "variations": []},
        headers=made.account.headers,
    )
    assert bare.status_code == 201, bare.text
    original = await client.get(f"/experiments/simulate/{bare.json()['id']}", headers=made.account.headers)
    token = token_of(original.text)
    shown = await client.get(
        f"/data/v1/sites/{made.code}/preview", params={"token": token}, headers={"Origin": "https://shop.example"}
    )
    assert shown.status_code == 200 and shown.json()["variationId"] == 0, shown.text


async def test_simulate_refuses_another_accounts_experiment_and_unknown_ids(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    made = await shop(client, factory, activate=False)
    stranger = await factory.account()
    theirs = await client.get(f"/experiments/simulate/{made.experiment_id}", headers=stranger.headers)
    assert theirs.status_code == 404
    assert (await client.get("/experiments/simulate/999999999", headers=made.account.headers)).status_code == 404
    assert (await client.get("/experiments/simulate/abc", headers=made.account.headers)).status_code == 400
    assert (await client.get(f"/experiments/simulate/{made.experiment_id}")).status_code == 401


async def test_the_preview_endpoint_refuses_forged_foreign_and_expired_tokens(
    client: httpx.AsyncClient, factory: Factory, runtime: Runtime
) -> None:
    made = await shop(client, factory, activate=False)
    other = await shop(client, factory, account=made.account, activate=False, host="other.example")
    links = (
        await client.get(f"/experiments/simulate/{made.experiment_id}", headers={**made.account.headers, **JSON})
    ).json()
    good = token_of(links[1]["url"])
    origin = {"Origin": "https://shop.example"}
    path = f"/data/v1/sites/{made.code}/preview"
    shown = await client.get(path, params={"token": good}, headers=origin)
    assert shown.status_code == 200, shown.text
    assert shown.json()["variationId"] == made.variation_ids[0]
    assert shown.json()["experiment"]["id"] == made.experiment_id
    assert shown.headers["Access-Control-Allow-Origin"] == "https://shop.example"

    class Yesterday(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - preview.LIFETIME_SECONDS - 60

    expired = URLSafeTimedSerializer(runtime.signing_key, salt="versicolor.engine.preview", signer=Yesterday).dumps(
        [made.code, made.experiment_id, made.variation_ids[0]]
    )
    for token, says in [
        (good[:-3] + "xyz", "altered"),
        (expired, "expired"),
        ("", "Versicolor made"),
    ]:
        answer = await client.get(path, params={"token": token}, headers=origin)
        assert answer.status_code == 400 and says in answer.json()["message"], answer.text
    foreign = await client.get(
        f"/data/v1/sites/{other.code}/preview", params={"token": good}, headers={"Origin": "https://other.example"}
    )
    assert foreign.status_code == 400 and "another site" in foreign.json()["message"]
    refused = await client.get(path, params={"token": good}, headers={"Origin": "https://nope.example"})
    assert refused.status_code == 403
    assert (await client.get(path, headers=origin)).status_code == 400  # no token at all
    deleted = await client.delete(f"/variations/{made.variation_ids[0]}", headers=made.account.headers)
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(path, params={"token": good}, headers=origin)).status_code == 404


async def test_a_preview_link_shows_a_draft_variation_in_that_tab_and_tracks_nothing(
    client: httpx.AsyncClient,
    factory: Factory,
    versicolor: Server,
    pages: PageServer,
    page: Page,
    browser_context: BrowserContext,
    runtime: Runtime,
) -> None:
    live = await live_shop(client, factory, versicolor, pages, activate=False)
    made = live.made
    links = (
        await client.get(f"/experiments/simulate/{made.experiment_id}", headers={**made.account.headers, **JSON})
    ).json()
    blue = token_of(links[2]["url"])
    await page.goto(live.publish("cart") + f"?{preview.PARAMETER}={blue}")
    await page.wait_for_function("document.getElementById('title').textContent === 'Blue'")
    assert await page.evaluate(f"versicolor.getVariation({made.experiment_id})") == made.variation_ids[1]
    await page.goto(live.publish("next"))  # the preview follows the tab
    await page.wait_for_function("document.getElementById('title').textContent === 'Blue'")
    assert await browser_context.cookies() == []  # a tab in preview stores nothing
    await page.goto(live.publish("next") + f"?{preview.PARAMETER}=")  # and ends on request
    await page.wait_for_function("window.versicolor && window.versicolor.visitorCode")
    assert await page.inner_text("#title") == "Original"  # a draft: nothing runs outside a preview
    await page.wait_for_timeout(1000)
    stored = await stored_events(runtime, made.site_id)
    assert stored["exposures"] == [] and stored["conversions"] == []
