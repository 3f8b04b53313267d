"""The Python SDK and light client: build and sign transactions, talk to a node's API, check proofs."""
