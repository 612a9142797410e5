"""HTTP: the two API dialects, the OAuth endpoints and the conventions they share."""
