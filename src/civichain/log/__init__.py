"""The RFC 9162 transparency log: an append-only Merkle log of every accepted record, and its proofs.

Anyone holding a signed root can check, without a database, that an entry is in the log (inclusion proof) and
that a later log only extends an earlier one (consistency proof). Hashing follows RFC 9162 §2.1 bit for bit, so
any RFC 9162 or RFC 6962 implementation agrees with it. This layer is pure: the store persists the perfect nodes
that `Frontier.append` hands out and serves them back through `LogNodes`; the light client imports only the
`verify_*` checks.
"""

from civichain.log.errors import ProofError
from civichain.log.frontier import Frontier
from civichain.log.hashing import SHA256_TREE, TreeHasher
from civichain.log.memory import MerkleLog
from civichain.log.prove import consistency_proof, inclusion_proof
from civichain.log.tree import LogNodes, root_of
from civichain.log.verify import root_from_inclusion, verify_consistency, verify_inclusion

__all__ = [
    "SHA256_TREE",
    "Frontier",
    "LogNodes",
    "MerkleLog",
    "ProofError",
    "TreeHasher",
    "consistency_proof",
    "inclusion_proof",
    "root_from_inclusion",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]
