"""Mechanisms every resource shares: rate limits (ratelimit), the list query language (listing), cursor paging."""
