"""Background work: arq jobs (thin, id-only, idempotent), sweeps, and the outbox relay."""
