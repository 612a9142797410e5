"""The dashboard's pages, one module per area; each page is a small function over `core` and `results`."""
