"""What a folder asks for: one spec per goal, segment, experiment and variation, each named by its key.

`fields` holds values in the API's own field names, complete for the fields sync knows (a field the manifest
leaves out holds its default) plus any other field the manifest gives, carried to the server as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from versicolor.sync.documents import Where

ORIGIN = "origin"


@dataclass(frozen=True)
class Spec:
    """An object the folder describes: its key, where it is written, its fields in the API's names."""

    key: str
    where: Where
    fields: dict[str, Any]
    # Where each field was written, for messages about it.
    places: dict[str, Where] = field(default_factory=dict)

    def place(self, name: str) -> Where:
        """Where field `name` was written (or the object itself, for a default)."""
        return self.places.get(name, self.where)


@dataclass(frozen=True)
class VariationSpec(Spec):
    """A variation of an experiment; its code is read from the files the manifest names."""


@dataclass(frozen=True)
class ExperimentSpec(Spec):
    """An experiment: its own fields, references by key, a lifecycle status, its variations."""

    goals: tuple[str, ...] = ()
    main_goal: str | None = None
    targeting_segment: str | None = None
    # {"origin" | variation key: share}; None: an equal split that follows the variations.
    deviations: dict[str, float] | None = None
    # The status the experiment should have; None: whatever it has.
    status: str | None = None
    variations: dict[str, VariationSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class Folder:
    """A whole folder: the site it describes and its objects. A kind whose file is absent is not managed (None)."""

    path: Path
    site: str
    site_where: Where
    goals: dict[str, Spec] | None
    segments: dict[str, Spec] | None
    experiments: dict[str, ExperimentSpec] | None
