"""The Automation dialect: camelCase, int64 ids, bare arrays for lists."""
