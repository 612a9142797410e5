"""Domains (Urls), Environments (Url Groups) and the host authorisation behind them (the Edit API v3; docs/domains.md).

`hosts` normalises host names and finds their registrable domain; `urls` and `url_groups` are the services the
Edit v3 API calls; `authorization` decides whether a page on a host may run experiences.
"""
