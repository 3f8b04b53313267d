"""Issue 4's targets, each next to the figure `civichain bench modules` measured for it: met, not met, or not
measured (a part skipped, or run smaller than the target's size: a figure at 20,000 keys says little about
1,000,000)."""

from __future__ import annotations

TARGET_BLOCK_TXS, TARGET_BLOCK_MS = 2_000, 1_000
TARGET_KEYS, TARGET_PROOF_BYTES, TARGET_VERIFICATIONS, TARGET_DISK_MIB = 1_000_000, 1_024, 5_000, 1_024
TARGET_VALIDATORS, TARGET_SEED_SECONDS = 4, 300


def issue4_targets(figures: dict) -> list[dict]:
    """Return one entry per target: `target` (text), `figure` (text), `met` (True, False, or None: not measured)."""
    state = figures.get("state")
    return [_block(figures.get("block")), *_state(state), _seed(figures.get("demo_seed"))]


def target_lines(targets: list[dict]) -> list[str]:
    """The targets as lines of text, one each: `met`, `NOT MET` or `not measured`, the target, the figure."""
    status = {True: "met", False: "NOT MET", None: "not measured"}
    return [f"{status[t['met']]:>12}  {t['target']}: {t['figure']}" for t in targets]


def _block(block: dict | None) -> dict:
    target = (f"a block of {TARGET_BLOCK_TXS:,} land and funds txs applied (FinalizeBlock, state root included, "
              f"then Commit) in < {TARGET_BLOCK_MS / 1000:g} s")
    if block is None:
        return _entry(target, "skipped (--blocks 0)", None)
    figure = (f"FinalizeBlock + Commit {block['finalize_and_commit_ms_median']:.0f} ms median, "
              f"{block['finalize_and_commit_ms_max']} ms max over {block['blocks']} blocks of "
              f"{block['txs_per_block']:,} "
              f"(FinalizeBlock alone {block['finalize_ms_median']:.0f} ms, signatures verified at CheckTx; "
              f"{block['finalize_unseen_ms_median']:.0f} ms on a node verifying all {block['signatures_per_block']:,} "
              f"signatures in FinalizeBlock)")
    if block["txs_per_block"] < TARGET_BLOCK_TXS:
        return _entry(target, figure, None)
    return _entry(target, figure, block["finalize_and_commit_ms_max"] < TARGET_BLOCK_MS)


def _state(state: dict | None) -> list[dict]:
    size = f"{TARGET_KEYS:,} keys"
    targets = (f"state proofs of at most about {TARGET_PROOF_BYTES:,} bytes at {size}",
               f"at least {TARGET_VERIFICATIONS:,} proof verifications/s (decoded from bytes)",
               f"the state of {size} < {TARGET_DISK_MIB / 1024:g} GiB on disk")
    if state is None:
        return [_entry(t, "skipped (--keys 0)", None) for t in targets]
    at = f" at {state['keys']:,} keys"
    measured = state["keys"] >= TARGET_KEYS
    return [
        _entry(targets[0], f"mean {state['proof_bytes_mean']} B, max {state['proof_bytes_max']} B{at}",
               state["proof_bytes_max"] <= TARGET_PROOF_BYTES if measured else None),
        _entry(targets[1], f"{state['proof_verifications_per_s']:,}/s{at}",
               state["proof_verifications_per_s"] >= TARGET_VERIFICATIONS if measured else None),
        # The state is its latest version; older ones are history a node keeps for its retention window.
        _entry(targets[2], f"{state['disk_mib_latest_version']:,} MiB (latest version, pruned and compacted; "
                           f"{state['disk_mib_all_versions']:,} MiB with all {state['blocks']} versions of the "
                           f"build kept){at}",
               state["disk_mib_latest_version"] < TARGET_DISK_MIB if measured else None),
    ]


def _seed(seed: dict | None) -> dict:
    target = f"demo seeding of the full data set in < {TARGET_SEED_SECONDS // 60} min on {TARGET_VALIDATORS} validators"
    if seed is None:
        return _entry(target, "skipped (--validators 0)", None)
    figure = (f"{seed['seed_seconds']:.0f} s for {seed['ok']:,} of {seed['transactions']:,} transactions ok, "
              f"{seed['validators']} validators, scale {seed['scale']:g}")
    if seed["validators"] != TARGET_VALIDATORS or seed["scale"] < 1:
        return _entry(target, figure, None)
    return _entry(target, figure, seed["seed_seconds"] < TARGET_SEED_SECONDS and seed["ok"] == seed["transactions"])


def _entry(target: str, figure: str, met: bool | None) -> dict:
    return {"target": target, "figure": figure, "met": met}
