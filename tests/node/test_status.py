"""`civichain status` names a node's problems: an app hash off the majority's, and what stopped its CometBFT."""

from __future__ import annotations

from civichain.node.status import app_hash_problems, engine_failure

APP_HASH_ERROR = ("wrong Block.Header.AppHash.  Expected 3E43, got 85D5")
FAILURE = (f'E[2026-11-25|06:35:18.365] CONSENSUS FAILURE!!!  module=consensus err="precommit step; +2/3 prevoted '
           f'for an invalid block: {APP_HASH_ERROR}" stack="goroutine 1295 [running]:\\nruntime/debug.Stack()"')
START = 'I[2026-11-25|06:35:00.000] service start  module=main msg="Starting Node service" impl=Node'
PEER_PROPOSED_BAD_BLOCK = ('E[2026-11-25|06:35:18.354] prevote step: consensus deems this block invalid; '
                           f'prevoting nil module=consensus height=62 round=1 err="{APP_HASH_ERROR}"')


def test_the_node_off_the_majority_is_named_with_the_height():
    problems = app_hash_problems(61, {"node0": "AA", "node1": "AA", "node2": "AA", "node3": "BB"})
    assert problems == {"node3": "app hash differs from 3 of 4 nodes at height 61"}


def test_without_a_majority_every_node_is_flagged_and_unknown_hashes_do_not_count():
    problems = app_hash_problems(7, {"node0": "AA", "node1": "BB", "node2": None})
    assert set(problems) == {"node0", "node1"}
    assert problems["node0"] == "app hashes disagree at height 7: no majority among 2 nodes"
    assert app_hash_problems(7, {"node0": "AA", "node1": "AA", "node2": None}) == {}


def test_a_consensus_failure_since_the_last_start_is_reported_with_its_error(tmp_path):
    log = tmp_path / "cometbft.log"
    log.write_text("\n".join([START, PEER_PROPOSED_BAD_BLOCK, FAILURE, ""]))
    assert engine_failure(log) == ("halted: precommit step; +2/3 prevoted for an invalid block: " + APP_HASH_ERROR)
    log.write_text("\n".join([START, FAILURE, START, ""]))
    assert engine_failure(log) is None, "a failure before the last start is history"


def test_a_peers_bad_proposal_is_not_this_nodes_problem_but_block_sync_refusing_blocks_is(tmp_path):
    log = tmp_path / "cometbft.log"
    log.write_text("\n".join([START, PEER_PROPOSED_BAD_BLOCK, ""]))
    assert engine_failure(log) is None
    refused = f'E[2026-11-25|06:35:20.000] Error in validation module=blocksync height=62 err="{APP_HASH_ERROR}"'
    log.write_text("\n".join([START, refused, ""]))
    assert engine_failure(log) == f"refuses the network's blocks: {APP_HASH_ERROR}"


def test_a_panic_that_killed_cometbft_is_reported_and_a_missing_log_is_no_problem(tmp_path):
    log = tmp_path / "cometbft.log"
    log.write_text("\n".join([START, "panic: state.AppHash does not match AppHash after replay", ""]))
    assert engine_failure(log) == "stopped: state.AppHash does not match AppHash after replay"
    assert engine_failure(tmp_path / "absent.log") is None
