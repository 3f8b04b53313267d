"""The HTTP API (`/v1/...`, OpenAPI at /docs): submit transactions, read committed data with proofs."""
