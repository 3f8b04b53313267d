"""civichain: a permissioned public-records ledger that government departments run together on CometBFT."""

__version__ = "0.1.0"
