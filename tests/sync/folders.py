"""Sync folders written for tests and benchmarks: a site of N experiments, each with three variations."""

from __future__ import annotations

from pathlib import Path


def write_site(root: Path, site_code: str, *, experiments: int, variations: int = 3) -> Path:
    """A folder describing `experiments` DRAFT experiments of `variations` variations, two goals, one segment."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.yaml").write_text(f"site: {site_code}\n")
    (root / "goals.yaml").write_text(
        "purchase:\n  name: Purchase\n  type: CUSTOM\n"
        "cart:\n  name: Cart page\n  type: URL\n  params:\n    matchString: /cart\n    matchType: CONTAINS\n"
    )
    (root / "segments.yaml").write_text(
        "new-visitors:\n  name: New visitors\n  conditionsData:\n    firstLevel:\n"
        "      - conditions:\n          - targetingType: NEW_VISITORS\n            include: true\n"
        "            visitorType: NEW\n"
    )
    for number in range(experiments):
        folder = root / "experiments" / f"exp-{number:03}"
        folder.mkdir(parents=True, exist_ok=True)
        entries = []
        for variation in range(variations):
            (folder / f"v{variation}.js").write_text(f"document.title = 'experiment {number} variation {variation}';\n")
            (folder / f"v{variation}.css").write_text(f".cta-{number} {{ color: #{variation:06x}; }}\n")
            entries.append(
                f"  v{variation}:\n    name: Variation {variation}\n"
                f"    jsFile: v{variation}.js\n    cssFile: v{variation}.css\n"
            )
        (folder / "common.js").write_text(f"window.exp{number} = true;\n")
        (folder / "experiment.yaml").write_text(
            f"name: Experiment {number}\nbaseURL: https://shop.example/page-{number}\n"
            "goals: [purchase, cart]\nmainGoal: purchase\ntargetingSegment: new-visitors\n"
            "commonJavaScriptFile: common.js\ntags: [sync]\nvariations:\n" + "".join(entries)
        )
    return root
