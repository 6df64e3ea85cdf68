# Two commands: `make test` runs every test; `make demo` runs Odoo with the suite installed.
SHELL := /bin/bash
.PHONY: test demo bootstrap bench lint i18n soak convergence

bootstrap:
	@bash tools/bootstrap.sh

test:
	@bash tools/run_tests.sh

demo:
	@bash tools/demo.sh

bench:
	@bash tools/bench.sh

lint:
	@bash tools/lint.sh

i18n:
	@bash tools/i18n.sh

soak:
	@bash tools/soak.sh soak

convergence:
	@bash tools/soak.sh ci
