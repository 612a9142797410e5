"""Reports: a request, aggregates computed in the database, the statistics engine, the §10 shape, callbacks."""
