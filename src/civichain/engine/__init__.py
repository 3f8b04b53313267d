"""CometBFT, the consensus engine: find the pinned binary, write its genesis and config, run it, talk to its RPC."""

from civichain.engine.binary import COMETBFT_VERSION, EngineError, find_cometbft

__all__ = ["COMETBFT_VERSION", "EngineError", "find_cometbft"]
