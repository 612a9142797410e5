"""Where the command line finds the server and the credentials: the environment, then a profile file.

`versicolor login` writes profiles to $XDG_CONFIG_HOME/versicolor/credentials (~/.config/... by default),
readable by its owner only. VERSICOLOR_URL, VERSICOLOR_CLIENT_ID and VERSICOLOR_CLIENT_SECRET win over it.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class Profile:
    """A server and the API credentials to use on it."""

    url: str | None
    client_id: str | None
    client_secret: str | None


def path() -> Path:
    """The profile file."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "versicolor" / "credentials"


def chosen(name: str | None) -> str:
    """The profile to use: the one named, else VERSICOLOR_PROFILE, else `default`."""
    return name or os.environ.get("VERSICOLOR_PROFILE") or DEFAULT_PROFILE


def load(name: str | None) -> Profile:
    """The profile, with every value the environment sets taking its place."""
    section: dict[str, str] = {}
    file = path()
    if file.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(file, encoding="utf-8")
        if parser.has_section(chosen(name)):
            section = dict(parser[chosen(name)])
    return Profile(
        url=os.environ.get("VERSICOLOR_URL") or section.get("url"),
        client_id=os.environ.get("VERSICOLOR_CLIENT_ID") or section.get("client_id"),
        client_secret=os.environ.get("VERSICOLOR_CLIENT_SECRET") or section.get("client_secret"),
    )


def save(name: str | None, profile: Profile) -> Path:
    """Write the profile (other profiles in the file stay), readable and writable by its owner only."""
    file = path()
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    parser = configparser.ConfigParser(interpolation=None)
    if file.is_file():
        parser.read(file, encoding="utf-8")
    parser[chosen(name)] = {
        "url": profile.url or "",
        "client_id": profile.client_id or "",
        "client_secret": profile.client_secret or "",
    }
    # Created with owner-only permissions, so that the secret is never readable by others, not even briefly.
    descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        parser.write(handle)
    return file
