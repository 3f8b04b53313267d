"""The chaos schedule: a pure function of (seed, duration, nodes) that keeps its bounds and ends with all well."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civichain.chaos.proxy import ChaosError
from civichain.chaos.schedule import (
    ACTIONS, DOWN_S, GAP_S, KILLS, PARTITION_S, Step, max_down, schedule,
)

seeds = st.integers(min_value=0, max_value=2**32 - 1)
durations = st.integers(min_value=1, max_value=900)


@given(seed=seeds, duration=durations)
def test_the_same_seed_gives_the_same_schedule_whatever_the_global_random_state(seed, duration):
    random.seed(1)
    first = schedule(seed, duration)
    random.seed(2)
    assert schedule(seed, duration) == first


def test_different_seeds_give_different_schedules():
    schedules = [tuple(schedule(seed, 60)) for seed in range(50)]
    assert len(set(schedules)) == 50


@given(seed=seeds, duration=durations, nodes=st.integers(min_value=2, max_value=7))
def test_every_schedule_keeps_its_bounds_and_ends_with_every_node_up_and_every_link_healed(seed, duration, nodes):
    steps = schedule(seed, duration, nodes)
    down: dict[int, float] = {}              # node -> when it was killed
    partitioned_at: float | None = None
    last = 0.0
    for step in steps:
        assert step.action in ACTIONS
        assert last <= step.at_s <= duration, f"{step} out of order or past the end"
        last = step.at_s
        if step.action == "kill":
            (victim,) = step.nodes
            assert victim not in down, f"{step}: the node is already down"
            assert step.roles in KILLS
            down[victim] = step.at_s
            assert len(down) <= max_down(nodes), f"{step}: more nodes down than the schedule allows"
        elif step.action == "restart":
            (victim,) = step.nodes
            assert victim in down, f"{step}: the node is not down"
            assert step.at_s - down.pop(victim) <= DOWN_S[1] + 0.1
        elif step.action == "partition":
            assert partitioned_at is None, f"{step}: a partition is already in place"
            assert step.nodes and step.others and set(step.nodes) | set(step.others) == set(range(nodes))
            assert not set(step.nodes) & set(step.others)
            assert len(step.nodes) in (1, nodes // 2)
            partitioned_at = step.at_s
        elif step.action == "heal":
            assert partitioned_at is not None, f"{step}: nothing to heal"
            assert step.at_s - partitioned_at <= PARTITION_S[1] + 0.1
            partitioned_at = None
    assert not down and partitioned_at is None, "the schedule ends with a node down or a partition in place"
    faults = [s for s in steps if s.action in ("kill", "partition", "quiet")]
    assert len(faults) <= duration / GAP_S[0]


def test_a_long_run_has_every_kind_of_step():
    steps = schedule(7, 600)
    assert {s.action for s in steps} == set(ACTIONS)
    assert {s.roles for s in steps if s.action == "kill"} == set(KILLS)
    partitions = [s for s in steps if s.action == "partition"]
    assert {len(s.nodes) for s in partitions} == {1, 2}
    assert {s.blackhole for s in partitions} == {True, False}
    assert max(len(_down_at(steps, s.at_s)) for s in steps) == max_down(4)


def test_steps_read_as_what_they_do():
    assert str(Step(1.0, "kill", nodes=(2,), roles=("cometbft", "app"))) == "kill node2 cometbft+app (SIGKILL)"
    assert str(Step(2.0, "partition", nodes=(0, 1), others=(2, 3))) == "partition {node0,node1} | {node2,node3} (refused)"
    assert str(Step(3.0, "partition", nodes=(3,), others=(0, 1, 2), blackhole=True)) == \
        "isolate node3 from {node0,node1,node2} (blackholed)"
    assert str(Step(4.0, "quiet", length_s=2.5)) == "quiet for 2.5 s"


@pytest.mark.parametrize("duration, nodes", [(0, 4), (-5, 4), (60, 1)])
def test_a_schedule_needs_a_positive_duration_and_two_nodes(duration, nodes):
    with pytest.raises(ChaosError) as raised:
        schedule(1, duration, nodes)
    assert raised.value.code == "chaos.invalid_schedule"


def _down_at(steps: list[Step], moment: float) -> set[int]:
    down: set[int] = set()
    for step in steps:
        if step.at_s > moment:
            break
        if step.action == "kill":
            down.add(step.nodes[0])
        elif step.action == "restart":
            down.discard(step.nodes[0])
    return down
