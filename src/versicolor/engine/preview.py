"""Preview links: a signed, expiring token that makes the engine show one variation of one experiment (also a
draft) in one browser tab, tracking nothing. The token names the site, the experiment and the variation; it
proves the link came from someone allowed to read the experiment, for as long as it lasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from versicolor.core.errors import Invalid

PARAMETER = "versicolor_preview"
LIFETIME_SECONDS = 24 * 3600
_SALT = "versicolor.engine.preview"


@dataclass(frozen=True)
class Preview:
    """What a valid token grants: this variation (0: the original) of this experiment on this site."""

    site_code: str
    experiment_id: int
    variation_id: int


def token(*, key: str, preview: Preview) -> str:
    """A token for `preview`, valid for LIFETIME_SECONDS."""
    signer = URLSafeTimedSerializer(key, salt=_SALT)
    return signer.dumps([preview.site_code, preview.experiment_id, preview.variation_id])


def read(*, key: str, value: str, site_code: str) -> Preview:
    """The preview a token grants on this site; Invalid for a token that is forged, expired or another site's."""
    signer = URLSafeTimedSerializer(key, salt=_SALT)
    try:
        site, experiment_id, variation_id = signer.loads(value, max_age=LIFETIME_SECONDS)
    except SignatureExpired:
        raise Invalid.field(
            "token", "the preview link has expired; get a new one from GET /experiments/simulate/{id}"
        ) from None
    except (BadData, ValueError, TypeError):
        raise Invalid.field("token", "is not a preview link Versicolor made (altered or truncated?)") from None
    if site != site_code or not isinstance(experiment_id, int) or not isinstance(variation_id, int):
        raise Invalid.field("token", "is a preview link of another site")
    return Preview(site_code=site, experiment_id=experiment_id, variation_id=variation_id)


def link(page_url: str, value: str) -> str:
    """`page_url` with the preview parameter set to the token (other parameters and the fragment kept)."""
    parts = urlsplit(page_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != PARAMETER]
    query.append((PARAMETER, value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), parts.fragment))
