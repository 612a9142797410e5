"""The tag a site pastes into its pages' <head>: the anti-flicker guard, then the engine, loaded async.

The guard hides the page at once and shows it again after the site's timeout whatever happens (Versicolor
unreachable, the script blocked); the engine shows it earlier, as soon as the variations are applied. A page
with a Content-Security-Policy adds its nonce to both tags; the guard gives it to its style, the engine to
what it injects (docs/engine.md).
"""

from __future__ import annotations

from html import escape

from versicolor.engine.script import SiteSettings


def engine_url(base_url: str, code: str) -> str:
    """Where a site's engine is served."""
    return f"{base_url.rstrip('/')}/data/v1/sites/{code}/engine.js"


def snippet(base_url: str, settings: SiteSettings) -> str:
    """The HTML to paste, for a Versicolor reachable at `base_url`."""
    timeout = int(settings.anti_flicker_timeout)
    guard = (
        "(function(d,t){window.versicolor=window.versicolor||[];"
        "if(!t)return;var s=d.createElement('style'),n=d.currentScript&&d.currentScript.nonce;"
        "s.id='versicolor-hide';if(n)s.nonce=n;s.setAttribute('data-until',Date.now()+t);"
        "s.textContent='html{visibility:hidden!important}';d.head.appendChild(s);"
        "setTimeout(function(){s.remove()},t)})"
        f"(document,{timeout});"
    )
    src = escape(engine_url(base_url, settings.code), quote=True)
    return f'<script>{guard}</script>\n<script async src="{src}" crossorigin="anonymous"></script>'
