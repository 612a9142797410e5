"""`versicolor sync`: a folder, kept in Git, that describes one site, and the plan and apply that make the site so.

Built on `versicolor.client` only (tests/test_architecture.py checks it). docs/sync.md describes the folder.
"""
