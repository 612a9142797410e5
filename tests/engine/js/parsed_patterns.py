"""What the page configuration would carry for these patterns: reads {"patterns": [...], "segments": [...]} (pattern
sources, conditions trees) as JSON on standard input, and writes {"patterns": {source: parsed}, "steps": {source: n}}.

The Node tests run it (load.mjs), so the page's matcher is tested on the server's own parsed forms, made by the
function that builds the configuration.
"""

from __future__ import annotations

import json
import sys

from versicolor.core import patterns
from versicolor.tracking.config import parsed_patterns

asked = json.load(sys.stdin)
goals = [{"matchType": "REGULAR_EXPRESSION", "matchString": source} for source in asked.get("patterns", [])]
parsed = parsed_patterns(asked.get("segments", []), goals)
json.dump(
    {"patterns": parsed, "steps": {source: patterns.steps(form["tree"]) + 1 for source, form in parsed.items()}},
    sys.stdout,
)
