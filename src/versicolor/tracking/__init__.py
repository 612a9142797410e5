"""Tracking: which variation a visitor sees, and the events pages and SDKs send back (docs/tracking.md).

Nothing here imports a web framework; the Data API routers in `versicolor.api.data` translate HTTP to these
functions.
"""
