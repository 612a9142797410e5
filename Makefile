.PHONY: serve test bench

serve:  ## Serve Versicolor on 127.0.0.1:8000 with SQLite in ./versicolor.db
	@scripts/bootstrap
	.venv/bin/versicolor serve

test:  ## Lint, type-check and run every test on SQLite and on PostgreSQL
	@scripts/test

bench:  ## Run the benchmarks and print their figures
	@scripts/bootstrap
	.venv/bin/python -m benchmarks
