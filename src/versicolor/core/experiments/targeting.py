"""Where an experiment runs: Kameleoon's `targetingConfiguration`, as the page engine applies it (docs/engine.md).

`PAGE` runs on the page of the experiment's `baseURL` only (its query string and fragment aside, a trailing `/`
trimmed); `URL` on every page whose address begins with the `baseURL`; the others, and an experiment without
one, on every page of the site. Who among the visitors of those pages sees it is its targeting segment's
business. Versicolor has no graphic editor, so `GRAPHICAL_PAGES` and `HEAT_SLICE` (pages chosen in Kameleoon's
editor) are kept as given and run on every page, as `SITE` does.
"""

from __future__ import annotations

from enum import StrEnum


class TargetingConfiguration(StrEnum):
    """Kameleoon's ways of saying where an experiment runs."""

    SITE = "SITE"
    URL = "URL"
    PAGE = "PAGE"
    SAVED_TEMPLATE = "SAVED_TEMPLATE"
    ALL_VISITORS = "ALL_VISITORS"
    GRAPHICAL_PAGES = "GRAPHICAL_PAGES"
    HEAT_SLICE = "HEAT_SLICE"
