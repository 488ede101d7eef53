# Convenience wrappers; tasks.py does the work so that python3 alone is enough.
.PHONY: demo test lint bench
demo:
	python3 tasks.py demo
test:
	python3 tasks.py test
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
bench:
	.venv/bin/python benchmarks/bench_engine.py --quick
