"""Find the pinned CometBFT binary and refuse any other version.

`scripts/setup` builds it with `go install github.com/cometbft/cometbft/cmd/cometbft@v0.39.4` into the
repository's `.tools/bin`. Why v0.39.x: see docs/architecture.md, "The engine".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from civichain.errors import CivicError

COMETBFT_VERSION = "0.39.4"     # keep in step with scripts/setup
_REPO = Path(__file__).resolve().parents[3]


class EngineError(CivicError):
    """CometBFT cannot be found, is of another version, or failed."""


def find_cometbft(explicit: str | Path | None = None) -> Path:
    """Return the path of a CometBFT binary of exactly the pinned version.

    Looks at `explicit` (a config value or the CIVICHAIN_COMETBFT variable the CLI passes in), then the
    repository's `.tools/bin`, then PATH. Raises `engine.not_found` or `engine.wrong_version`.
    """
    candidates = [Path(explicit)] if explicit else [_REPO / ".tools" / "bin" / "cometbft"]
    if not explicit and (on_path := shutil.which("cometbft")):
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            check_version(candidate)
            return candidate
    raise EngineError("engine.not_found", where="cometbft binary", got=[str(c) for c in candidates],
                      expected=f"CometBFT {COMETBFT_VERSION}; run scripts/setup to build it with go install")


def check_version(binary: Path) -> None:
    """Raise `engine.wrong_version` unless `binary version` prints the pinned version."""
    try:
        found = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineError("engine.not_runnable", where=str(binary), got=str(exc), expected="a runnable binary") from None
    if found != COMETBFT_VERSION:
        raise EngineError("engine.wrong_version", where=str(binary), got=found or "no version",
                          expected=f"CometBFT {COMETBFT_VERSION} exactly; run scripts/setup")
