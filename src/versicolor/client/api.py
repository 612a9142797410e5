"""`Versicolor`: a connection to one server as one API client, with a collection per resource."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

from versicolor.client.auth import Credentials
from versicolor.client.resources import Experiments, Goals, Segments, Sites, Urls, Variations
from versicolor.client.results import Results
from versicolor.client.retries import RetryPolicy
from versicolor.client.transport import Transport, WaitListener


class Versicolor:
    """A client of one Versicolor server.

    ```
    with Versicolor("https://ab.example.com", client_id="...", client_secret="...") as vc:
        for experiment in vc.experiments.list(filter=[where("status", "EQUAL", "ACTIVE")]):
            print(experiment.name)
    ```
    """

    def __init__(
        self,
        url: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        on_wait: WaitListener | None = None,
        transport: Transport | None = None,
    ) -> None:
        credentials = Credentials(client_id, client_secret) if client_id and client_secret else None
        self.transport = transport or Transport(
            url, credentials=credentials, retry=retry, timeout=timeout, on_wait=on_wait
        )
        self.sites = Sites(self.transport)
        self.goals = Goals(self.transport)
        self.segments = Segments(self.transport)
        self.experiments = Experiments(self.transport)
        self.variations = Variations(self.transport)
        self.urls = Urls(self.transport)
        self.results = Results(self.transport)

    @classmethod
    def from_environment(cls, **options: Any) -> Versicolor:
        """A client from VERSICOLOR_URL, VERSICOLOR_CLIENT_ID and VERSICOLOR_CLIENT_SECRET."""
        url = os.environ.get("VERSICOLOR_URL")
        if not url:
            raise ValueError("VERSICOLOR_URL is not set")
        return cls(
            url,
            client_id=os.environ.get("VERSICOLOR_CLIENT_ID"),
            client_secret=os.environ.get("VERSICOLOR_CLIENT_SECRET"),
            **options,
        )

    def close(self) -> None:
        """Close the connections."""
        self.transport.close()

    def __enter__(self) -> Versicolor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
