# Thin wrappers: the work is in scripts/tasks.sh, which also runs where make is missing.
.PHONY: run test lint typecheck bench screenshots env
run:
	sh scripts/tasks.sh run $(ARGS)
test:
	sh scripts/tasks.sh test $(ARGS)
lint:
	sh scripts/tasks.sh lint
typecheck:
	sh scripts/tasks.sh typecheck
bench:
	sh scripts/tasks.sh bench $(ARGS)
screenshots:
	sh scripts/tasks.sh screenshots
env:
	sh scripts/tasks.sh env
