"""The dashboard in a real headless Chromium against a real `versicolor serve`: signing in, the list, an
experiment with results, switching to Bayesian, breaking the results down by a custom datum, lifecycle actions as
an EDITOR, a VIEWER's forged post, a foreign id, names with HTML; at 1280x800 and at a phone's 375 px; no
Content-Security-Policy violation (the server forbids inline scripts) and no serious accessibility violation
(axe-core). Screenshots of the main pages are saved."""

from __future__ import annotations

import re

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import ConsoleMessage, Page, expect
from tests.browsing import SCREENSHOTS, screenshot
from tests.factories import Factory, Member
from tests.server import Server
from tests.tracking.fixtures import shop
from tests.web.shops import PLAN, TAGS, planned_shop, stocked_shop

from versicolor.core.roles import Role

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
HOST = "versicolor.test"  # every name resolves to 127.0.0.1 in the harness's Chromium


@pytest.fixture(scope="session")
def live(live_server: Server) -> Server:
    """A real `versicolor serve` on the test database (the suite's, tests/conftest.py)."""
    return live_server


async def _for_docs(page: Page, name: str) -> None:
    """A small picture of what the window shows, for docs/dashboard.md (docs/images/ holds copies)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.jpg"), type="jpeg", quality=70)


def _url(live: Server, path: str) -> str:
    return live.base_url.replace("127.0.0.1", HOST) + path


class Console:
    """What a page printed to its console that a user's browser would also show: errors and CSP refusals."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", self._seen)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))

    def _seen(self, message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(message.text)


async def _sign_in(page: Page, live: Server, member: Member, path: str = "/app/experiments") -> None:
    await page.goto(_url(live, path))
    await expect(page.get_by_role("heading", name="Sign in to the dashboard")).to_be_visible()
    await page.get_by_label("Email").fill(member.email)
    await page.get_by_label("Password").fill(member.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(re.escape(path) + "$"))


async def _no_serious_violations(page: Page, name: str) -> None:
    results = await Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{name}: " + "; ".join(serious)


async def _fits(page: Page, name: str) -> None:
    """Nothing wider than the window: wide tables scroll inside their own box."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= await page.evaluate("window.innerWidth"), f"{name} is {width} px wide"


async def test_sign_in_list_open_an_experiment_and_switch_to_bayesian(
    page: Page, live: Server, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await stocked_shop(client, factory)
    console = Console(page)
    await page.set_viewport_size(DESKTOP)
    await page.goto(_url(live, "/"))
    await page.get_by_role("link", name="Open the dashboard").click()
    await expect(page.get_by_role("heading", name="Sign in to the dashboard")).to_be_visible()
    await screenshot(page, "dashboard-sign-in")
    await _no_serious_violations(page, "sign-in")
    await page.get_by_label("Email").fill(made.account.admin.email)
    await page.get_by_label("Password").fill(made.account.admin.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/app/experiments$"))

    row = page.get_by_role("row", name=re.compile("Checkout button"))
    await expect(row).to_contain_text("Green +100.0%")
    await screenshot(page, "dashboard-experiments")
    await _for_docs(page, "dashboard-experiments")
    await _no_serious_violations(page, "experiments")

    await page.get_by_role("link", name="Checkout button").click()
    await page.wait_for_url(re.compile(rf"/app/experiments/{made.experiment_id}$"))
    purchase = page.get_by_role("table").filter(has_text="Green").first
    await expect(purchase).to_contain_text("100.00%")
    await expect(page.locator("figure.chart svg polyline")).to_have_count(2)
    await screenshot(page, "dashboard-experiment")
    await page.evaluate("document.getElementById('results-heading').scrollIntoView()")
    await _for_docs(page, "dashboard-results")
    await page.evaluate("document.getElementById('chart-heading').scrollIntoView()")
    await _for_docs(page, "dashboard-chart")
    await _no_serious_violations(page, "experiment")

    # The switches apply as soon as they change (a few lines of the package's script).
    await page.get_by_label("Bayesian").check()
    await page.wait_for_url(re.compile(r"method=bayesian"))
    await expect(page.get_by_role("columnheader", name="Chance to win").first).to_be_visible()
    await expect(page.get_by_text("Too close to call yet").first).to_be_visible()
    await screenshot(page, "dashboard-experiment-bayesian")

    await page.goto(_url(live, f"/app/sites/{made.site_id}"))
    await expect(page.get_by_role("heading", name="Domains of the account")).to_be_visible()
    await screenshot(page, "dashboard-site")
    await _for_docs(page, "dashboard-site")
    await _no_serious_violations(page, "site")
    await page.goto(_url(live, "/app/account"))
    await screenshot(page, "dashboard-account")
    await _no_serious_violations(page, "account")

    await page.set_viewport_size(PHONE)
    for path, name in (
        ("/app/experiments", "experiments"),
        (f"/app/experiments/{made.experiment_id}?breakdown=device", "experiment"),
        (f"/app/sites/{made.site_id}", "site"),
        ("/app/account", "account"),
    ):
        await page.goto(_url(live, path))
        await _fits(page, name)
        await _no_serious_violations(page, f"{name} at 375 px")
    await page.goto(_url(live, f"/app/experiments/{made.experiment_id}"))
    await screenshot(page, "dashboard-experiment-phone")
    await _for_docs(page, "dashboard-phone")
    assert console.problems == []


async def test_a_breakdown_by_a_custom_datum_lists_each_value_with_its_visitors(
    page: Page, live: Server, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await planned_shop(client, factory)
    console = Console(page)
    await page.set_viewport_size(DESKTOP)
    await _sign_in(page, live, made.account.admin, f"/app/experiments/{made.experiment_id}")
    select = page.get_by_role("combobox", name="Breakdown", exact=True)
    offered = [text.strip() for text in await select.locator("option").all_inner_texts()]
    # The site's UNIQUE custom data only: not its LIST Tags, nor another site's Region.
    assert offered[-2:] == ["Plan (custom datum 3)", "Tier (custom datum 7)"]
    assert not any("Tags" in text or "Region" in text for text in offered)

    await select.select_option(label="Plan (custom datum 3)")
    await page.wait_for_url(re.compile(rf"breakdown=custom%3A{PLAN}&"))
    await expect(page.get_by_role("heading", name="Purchase by Plan")).to_be_visible()
    table = page.get_by_role("region", name="Breakdown").get_by_role("table")
    await expect(table.get_by_role("columnheader").first).to_have_text("Plan")
    keys = [text.strip() for text in await table.locator("tbody th").all_inner_texts()]
    assert keys == ["<b>bold</b>", "_vip", "gold", "silver", "Not recorded"]
    visitors: dict[tuple[str, str], str] = {}
    key = ""
    for row in await table.locator("tbody tr").all():
        cells = [text.strip() for text in await row.locator("th, td").all_inner_texts()]
        if len(cells) == 7:
            key, cells = cells[0], cells[1:]
        visitors[(key, cells[0])] = cells[1]
    assert visitors[("gold", "Original")] == "2" and visitors[("gold", "Green")] == "1"
    assert visitors[("_vip", "Green")] == "1" and visitors[("silver", "Blue")] == "1"
    assert visitors[("Not recorded", "Original")] == "1" and visitors[("Not recorded", "Green")] == "1"
    # A value a visitor's page sent is text, never markup.
    assert await page.locator("main table b").count() == 0
    await expect(select).to_have_value(f"custom:{PLAN}")
    await screenshot(page, "dashboard-experiment-custom-datum")
    await _no_serious_violations(page, "experiment by a custom datum")
    await page.set_viewport_size(PHONE)
    await _fits(page, "experiment by a custom datum")
    await _no_serious_violations(page, "experiment by a custom datum at 375 px")
    assert console.problems == []

    # A link that names no UNIQUE custom datum of the site is a page that says so, not an error of the server.
    for value, says in ((f"custom:{TAGS}", "is of type LIST"), ("custom:999", "no custom datum at index 999")):
        response = await page.goto(_url(live, f"/app/experiments/{made.experiment_id}?breakdown={value}"))
        assert response is not None and response.status == 400
        await expect(page.get_by_role("alert")).to_contain_text(says)
        await expect(page.get_by_role("alert")).to_contain_text("custom:3 (Plan), custom:7 (Tier)")
    response = await page.goto(_url(live, f"/app/experiments/{made.experiment_id}?breakdown=custom:abc"))
    assert response is not None and response.status == 400
    await expect(page.get_by_role("alert")).to_contain_text("does not name a custom datum")
    await _no_serious_violations(page, "a breakdown that is not offered")


async def test_an_editor_activates_then_pauses_after_confirming(
    page: Page, live: Server, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory, activate=False)
    editor = await factory.member(made.account, Role.EDITOR)
    console = Console(page)
    await page.set_viewport_size(DESKTOP)
    await _sign_in(page, live, editor, f"/app/experiments/{made.experiment_id}")
    await expect(page.get_by_text("Draft", exact=True)).to_be_visible()
    await page.get_by_role("link", name="Activate", exact=True).click()
    await expect(page.get_by_role("heading", name="Activate “Checkout button”?")).to_be_visible()
    await screenshot(page, "dashboard-confirm")
    await page.get_by_role("button", name="Activate", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="Experiment activated.")).to_be_visible()
    await page.get_by_role("link", name="Pause", exact=True).click()
    await page.get_by_role("button", name="Pause", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="Experiment paused.")).to_be_visible()
    answer = await client.get(f"/experiments/{made.experiment_id}", headers=made.account.headers)
    assert answer.json()["status"] == "PAUSED"
    assert console.problems == []


async def test_a_viewer_sees_no_action_and_its_forged_post_is_refused(
    page: Page, live: Server, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    viewer = await factory.member(made.account, Role.VIEWER)
    await page.set_viewport_size(DESKTOP)
    await _sign_in(page, live, viewer, f"/app/experiments/{made.experiment_id}")
    await expect(page.get_by_role("group", name="Lifecycle actions")).to_have_count(0)
    await expect(page.get_by_role("link", name="Pause")).to_have_count(0)
    # The viewer's own browser, with its own cookie and a valid form token, posts the form it was not offered.
    token = await page.locator("input[name=csrf_token]").first.input_value()
    forge = """([action, token]) => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = action;
        for (const [name, value] of [["action", "PAUSE"], ["csrf_token", token]]) {
            const input = document.createElement("input");
            input.type = "hidden"; input.name = name; input.value = value;
            form.append(input);
        }
        document.body.append(form);
        form.submit();
    }"""
    async with page.expect_navigation() as navigation:
        await page.evaluate(forge, [f"/app/experiments/{made.experiment_id}/status", token])
    response = await navigation.value
    assert response is not None and response.status == 403
    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("does not let you change experiments")
    answer = await client.get(f"/experiments/{made.experiment_id}", headers=made.account.headers)
    assert answer.json()["status"] == "ACTIVE"


async def test_a_foreign_id_is_a_404_page_and_a_name_with_html_is_text(
    page: Page, live: Server, factory: Factory, client: httpx.AsyncClient
) -> None:
    mine = await shop(client, factory)
    theirs = await shop(client, factory)
    name = '<img src=x onerror="document.title=\'owned\'"><script>document.title="owned"</script>'
    renamed = await client.patch(
        f"/experiments/{mine.experiment_id}", json={"name": name}, headers=mine.account.headers
    )
    assert renamed.status_code == 200, renamed.text
    console = Console(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await page.set_viewport_size(DESKTOP)
    await _sign_in(page, live, mine.account.admin)
    response = await page.goto(_url(live, f"/app/experiments/{theirs.experiment_id}"))
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await expect(page.get_by_text("Checkout button")).to_have_count(0)
    assert console.problems == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    console.problems.clear()
    await page.goto(_url(live, f"/app/experiments/{mine.experiment_id}"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    assert await page.locator("main img").count() == 0
    # Had any of it run, the title would be "owned"; it is the name, as text.
    assert await page.title() == f"{name} · Versicolor" and dialogs == []
    await page.goto(_url(live, "/app/experiments"))
    await expect(page.get_by_role("link", name=name)).to_be_visible()
    assert await page.title() == "Experiments · Versicolor"
    assert console.problems == []


async def test_code_and_names_with_html_on_the_experiment_and_site_pages_are_text(
    page: Page, live: Server, factory: Factory, client: httpx.AsyncClient
) -> None:
    made = await shop(client, factory)
    owned = '</code></pre><script>document.title="owned"</script><img src=x onerror="document.title=\'owned\'">'
    headers = made.account.headers
    for path, body in (
        (f"/variations/{made.variation_ids[0]}", {"jsCode": owned, "cssCode": "</style><script>x()</script>"}),
        (f"/goals/{made.goal_id}", {"name": "<b>Purchase</b><script>document.title='owned'</script>"}),
        (f"/sites/{made.site_id}", {"name": "<i>Shop</i>"}),
    ):
        changed = await client.patch(path, json=body, headers=headers)
        assert changed.status_code == 200, changed.text
    console = Console(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await page.set_viewport_size(DESKTOP)
    await _sign_in(page, live, made.account.admin, f"/app/experiments/{made.experiment_id}")
    await page.get_by_text("Green: JavaScript").click()
    await expect(page.locator("details pre code").first).to_have_text(owned)
    goal_name = "<b>Purchase</b><script>document.title='owned'</script>"
    await expect(page.locator("main li").filter(has_text=goal_name)).to_be_visible()
    await expect(page.get_by_role("link", name="<i>Shop</i>")).to_be_visible()
    assert await page.locator("main img, main b, main i, main script").count() == 0
    await page.goto(_url(live, f"/app/sites/{made.site_id}"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("<i>Shop</i>")
    await expect(page.get_by_text(goal_name).first).to_be_visible()
    assert await page.locator("main img, main b, main i, main script").count() == 0
    assert "owned" not in await page.title() and dialogs == [] and console.problems == []
