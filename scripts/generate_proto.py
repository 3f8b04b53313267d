"""Generate the Python protobuf modules civichain needs from CometBFT's own .proto files.

Run by scripts/setup; the output folder is not committed, so the messages always match the pinned release.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

PROTOS = [
    "gogoproto/gogo.proto",
    "tendermint/abci/types.proto",
    "tendermint/crypto/proof.proto",
    "tendermint/crypto/keys.proto",
    "tendermint/types/params.proto",
    "tendermint/types/validator.proto",
    "tendermint/types/types.proto",
    "tendermint/types/canonical.proto",
    "tendermint/types/block.proto",
    "tendermint/types/evidence.proto",
    "tendermint/version/types.proto",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cometbft", type=Path, required=True, help="CometBFT module folder (go mod download)")
    parser.add_argument("--gogoproto", type=Path, required=True, help="gogoproto module folder")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    bundled = Path(grpc_tools.__file__).parent / "_proto"
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    sources = [p for p in PROTOS if not p.startswith("gogoproto/")]
    command = [
        "protoc",
        f"-I{args.cometbft / 'proto'}",
        f"-I{args.gogoproto}",
        f"-I{bundled}",
        f"--python_out={args.out}",
        "gogoproto/gogo.proto",
        *sources,
    ]
    if protoc.main(command) != 0:
        print("generate_proto: protoc failed", file=sys.stderr)
        return 1
    for folder in [args.out, *[p for p in args.out.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
