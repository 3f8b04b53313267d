"""The ABCI protobuf messages, generated at set-up time from the pinned CometBFT release's .proto files.

`scripts/setup` runs protoc over `$GOMODCACHE/github.com/cometbft/cometbft@<version>/proto` into
`abci/_gen` (not committed). The generated modules import each other as top-level packages
(`tendermint.*`, `gogoproto.*`), so that folder is put on the import path here, and only here.
"""

from __future__ import annotations

import sys
from pathlib import Path

_GEN = Path(__file__).parent / "_gen"


class MessagesMissing(RuntimeError):
    """The generated ABCI modules are not there: set-up did not run."""


def _load():
    if not (_GEN / "tendermint" / "abci" / "types_pb2.py").exists():
        raise MessagesMissing(
            f"the ABCI protobuf modules are missing in {_GEN}; run scripts/setup to generate them")
    if str(_GEN) not in sys.path:
        sys.path.insert(0, str(_GEN))
    from tendermint.abci import types_pb2
    from tendermint.crypto import keys_pb2, proof_pb2
    from tendermint.types import types_pb2 as block_types_pb2
    from tendermint.types import validator_pb2, params_pb2, canonical_pb2, block_pb2, evidence_pb2
    from tendermint.version import types_pb2 as version_pb2
    return (types_pb2, keys_pb2, proof_pb2, block_types_pb2, validator_pb2, params_pb2, canonical_pb2,
            block_pb2, evidence_pb2, version_pb2)


(abci, keys, proof, types, validator, params, canonical, block, evidence, version) = _load()

__all__ = ["abci", "block", "canonical", "evidence", "keys", "params", "proof", "types", "validator", "version"]
