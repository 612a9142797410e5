.PHONY: serve test bench lock upgrade

serve:  ## Serve Versicolor on 127.0.0.1:8000 (PORT=9000 for another port) with SQLite in ./versicolor.db
	@scripts/bootstrap
	.venv/bin/versicolor serve $(if $(PORT),--port $(PORT))

test:  ## Lint, type-check and run every test on SQLite and on PostgreSQL
	@scripts/test

bench:  ## Run the benchmarks and print their figures
	@scripts/bootstrap
	.venv/bin/python -m benchmarks

lock:  ## Update uv.lock after a change of dependencies in pyproject.toml (keeps every other pin)
	@scripts/bootstrap --tools-only
	.tools/bin/uv lock --python python3

upgrade:  ## Move every pin to the newest release pyproject.toml allows; test and benchmark before and after
	@scripts/upgrade
