"""The whole loop against a real server: pull, edit, plan, apply, and a plan that then finds nothing to do."""

from __future__ import annotations

from pathlib import Path

from tests.client.conftest import connect
from tests.factories import TestAccount
from tests.server import Server
from versicolor.client import Versicolor
from versicolor.sync import apply, folder, plan, pull, remote


def _site_with_an_experiment(vc: Versicolor) -> tuple[int, str]:
    site = vc.sites.create(name="Shop", url="https://shop.example")
    buy = vc.goals.create(name="Purchase", site_id=site.id, type="CUSTOM")
    cart = vc.goals.create(
        name="Cart page", site_id=site.id, type="URL", params={"matchString": "/cart", "matchType": "CONTAINS"}
    )
    mobile = vc.segments.create(
        name="Mobile visitors",
        site_id=site.id,
        conditions_data={
            "firstLevel": [{"conditions": [{"targetingType": "NEW_VISITORS", "include": True, "visitorType": "NEW"}]}]
        },
    )
    experiment = vc.experiments.create(
        name="Checkout button",
        site_id=site.id,
        base_url="https://shop.example/cart",
        goals=[buy.id, cart.id],
        main_goal_id=buy.id,
        targeting_segment_id=mobile.id,
        common_css_code=".cta { font-weight: bold }\n",
    )
    # Blue is the first variation the experiment came with; Green is added beside it.
    (first,) = experiment.raw()["variations"]
    vc.variations.update(first, name="Blue", js_code="paint('blue');\r\n", css_code=None)
    vc.variations.create(name="Green", experiment_id=experiment.id, js_code="paint('green');\n")
    vc.experiments.activate(experiment.id)
    return site.id, site.code


def _plan(vc: Versicolor, path: Path, **options: bool) -> plan.Plan:
    return plan.make(folder.read(path), remote.read(vc, folder.read(path).site), **options)


async def test_pull_edit_plan_apply_then_nothing_to_do(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    with connect(api_server, account) as vc:
        _site_id, code = _site_with_an_experiment(vc)
        pulled = pull.pull(vc, code, tmp_path / "shop")
        assert (pulled.goals, pulled.segments, pulled.experiments, pulled.variations) == (2, 1, 1, 2)
        assert len(pulled.keys_given) == 6
        root = tmp_path / "shop"
        assert (root / "experiments/checkout-button/blue.js").read_bytes() == b"paint('blue');\r\n"
        assert _plan(vc, root).empty, "a folder just pulled matches its site"

        # Edit: a new goal, a renamed variation, a new experiment with a custom split.
        goals = (root / "goals.yaml").read_text()
        assert "status" not in goals, "defaults are left out"
        goals = goals.replace("  name: Purchase\n", "  name: Purchase\n  status: INACTIVE\n")
        (root / "goals.yaml").write_text(goals + "signup:\n  name: Sign-up\n  type: CUSTOM\n")
        manifest = root / "experiments/checkout-button/experiment.yaml"
        manifest.write_text(manifest.read_text().replace("name: Green", "name: Bright green"))
        new = root / "experiments/banner"
        new.mkdir()
        (new / "a.js").write_text("banner('a');\n")
        (new / "experiment.yaml").write_text(
            "name: Banner\nbaseURL: https://shop.example/\ngoals: [signup]\nmainGoal: signup\nstatus: ACTIVE\n"
            "deviations: {origin: 0.2, a: 0.8}\nvariations:\n  a:\n    name: Banner A\n    jsFile: a.js\n"
        )
        changes = _plan(vc, root)
        assert changes.problems == []
        assert sorted(c.label + ":" + c.action for c in changes.changes) == [
            "experiment banner:create",
            "goal purchase:update",
            "goal signup:create",
            "variation banner/a:create",
            "variation checkout-button/green:update",
        ]
        before = vc.transport.sent.copy()
        writes = apply.run(vc, changes, remote.read(vc, code))
        sent = vc.transport.sent - before
        assert writes == 6, "two goals, a variation, an experiment, its activation, the renamed variation"
        assert sent["POST"] + sent["PATCH"] + sent["PUT"] + sent["DELETE"] == 6
        assert _plan(vc, root).empty

        (banner,) = [e for e in vc.experiments.list() if e.key == "banner"]
        assert banner.status == "ACTIVE"
        (a,) = [v for v in vc.variations.list() if v.key == "a"]
        assert banner.deviations == {"origin": 0.2, str(a.id): 0.8}
        assert a.js_code == "banner('a');\n"
        assert [g.status for g in vc.goals.list() if g.key == "purchase"] == ["INACTIVE"]


async def test_a_live_change_is_refused_unless_allowed(
    api_server: Server, account: TestAccount, tmp_path: Path
) -> None:
    with connect(api_server, account) as vc:
        _site_id, code = _site_with_an_experiment(vc)
        root = tmp_path / "shop"
        pull.pull(vc, code, root)
        (root / "experiments/checkout-button/blue.js").write_text("paint('navy');\n")
        refused = _plan(vc, root)
        assert len(refused.problems) == 1
        problem = refused.problems[0]
        assert problem.where.file == "experiments/checkout-button/experiment.yaml"
        assert "ACTIVE" in problem.message and "--allow-live-changes" in problem.message
        assert "jsCode" in problem.message
        try:
            apply.run(vc, refused, remote.read(vc, code))
        except apply.PlanRefused as exc:
            assert exc.problems == refused.problems
        else:
            raise AssertionError("apply made a refused plan")
        (blue,) = [v for v in vc.variations.list() if v.key == "blue"]
        assert blue.js_code == "paint('blue');\r\n", "nothing was written"

        allowed = _plan(vc, root, allow_live_changes=True)
        assert allowed.problems == [] and apply.run(vc, allowed, remote.read(vc, code)) == 1
        assert vc.variations.get(blue.id).js_code == "paint('navy');\n"
