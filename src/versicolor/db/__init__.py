"""Storage: engines and sessions, tables, and the migration chain."""
