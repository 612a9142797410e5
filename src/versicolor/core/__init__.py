"""The domain: what Versicolor knows and allows, with no HTTP in sight."""
