"""ABCI: CometBFT's requests in, civichain ledger calls out. Protobuf stops here."""
