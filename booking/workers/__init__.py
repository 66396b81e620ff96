"""Background work on arq: thin, id-only, idempotent tasks and periodic sweeps."""
