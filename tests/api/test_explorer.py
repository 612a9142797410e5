"""The API explorer at /docs: Swagger UI that renders the OpenAPI 3.1 document, under a policy that allows no
inline script, and whose "Authorize" works for OAuth client credentials and the account secret (in Chromium)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Locator, Page

from tests.browsing import screenshot
from tests.factories import Factory, TestAccount
from tests.server import Server


async def test_the_page_loads_only_files_of_this_server_and_runs_no_inline_script(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.DOTALL)
    assert len(scripts) == 2
    assert all(body.strip() == "" for _, body in scripts)  # every script is a file
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/") and not source.startswith("//") for source in sources)
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
    bundle = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert len(bundle.content) > 500_000
    # Swagger UI 5 renders OpenAPI 3.1; the 4.x the service shipped before could not.
    assert re.search(rb'version:"5\.', bundle.content) or b"5.31" in bundle.content


async def test_the_oauth_redirect_page_runs_no_inline_script(client: httpx.AsyncClient) -> None:
    redirect = await client.get("/docs-assets/oauth2-redirect.html")
    assert redirect.status_code == 200
    assert '<script src="oauth2-redirect.js"></script>' in redirect.text
    assert (await client.get("/docs-assets/oauth2-redirect.js")).status_code == 200


@pytest.fixture
def explorer_server(live_server: Server) -> Server:
    """A real server on the test database (the suite's, tests/conftest.py), for the browser."""
    return live_server


def _operation(page: Page, method: str, path: str) -> Locator:
    return page.locator(f".opblock-{method}").filter(has=page.locator(f'[data-path="{path}"]'))


async def _authorize(page: Page, shown: str, values: dict[str, str]) -> None:
    """Fill the form of one scheme (the one whose box in the Authorize dialog shows `shown`) and authorize it."""
    await page.click(".auth-wrapper button.authorize")
    container = page.locator(".modal-ux .auth-container", has_text=shown).first
    for field, value in values.items():
        await container.locator(field).fill(value)
    await container.locator("button.authorize").click()
    await container.locator("button", has_text="Logout").first.wait_for()
    assert "Authorized" in await container.inner_text()
    await page.locator(".modal-ux button.close-modal").click()


async def _execute(page: Page, method: str, path: str) -> str:
    """Try the operation out from the page; the status it shows."""
    operation = _operation(page, method, path)
    await operation.locator(".opblock-summary").first.click()
    # "Try it out" is on from the start (docs.js).
    await operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    await status.wait_for()
    return (await status.inner_text()).strip()


async def test_operations_are_listed_and_authorized_calls_succeed_from_the_page(
    page: Page, explorer_server: Server, factory: Factory, client: httpx.AsyncClient
) -> None:
    account: TestAccount = await factory.account()
    document = (await client.get("/openapi.json")).json()
    operations = sum(len(methods) for methods in document["paths"].values())
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    await page.goto(f"{explorer_server.base_url}/docs")
    await page.locator(".opblock").nth(operations - 1).wait_for(timeout=60_000)  # a big document, a busy machine
    assert await page.locator(".opblock").count() == operations
    assert await page.get_by_text("Unable to render this definition").count() == 0

    await _authorize(
        page,
        "Flow: clientCredentials",
        {
            "#client_id_clientCredentials": account.admin.client_id,
            "#client_secret_clientCredentials": account.admin.client_secret,
        },
    )
    assert await _execute(page, "get", "/accounts/me") == "200"
    shown = (
        await _operation(page, "get", "/accounts/me").locator(".live-responses-table .microlight").first.inner_text()
    )
    assert account.admin.email in shown

    await _authorize(page, "Name: X-Account-Secret", {"input": account.account_secret})
    assert await _execute(page, "get", "/v3/edit/urls") == "200"
    await screenshot(page, "api-explorer")
    assert not [line for line in console if "Content Security Policy" in line or "Refused to" in line]
