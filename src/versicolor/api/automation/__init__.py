"""The Automation dialect (seed 000): camelCase, int64 ids, bare arrays for lists."""
