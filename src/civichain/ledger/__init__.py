"""The ledger of one node: committed state in the store, and the block being decided on top of it.

It ties the pure parts (admission, execution, the transparency log, the state tree) to the store, following
CometBFT's crash-safety rules: FinalizeBlock computes everything into memory, Commit writes it in one
atomic, fsynced transaction, and Info reports exactly what Commit wrote.
"""

from civichain.ledger.ledger import CheckOutcome, FinalizeOutcome, Ledger, LedgerError

__all__ = ["CheckOutcome", "FinalizeOutcome", "Ledger", "LedgerError"]
