"""The fault schedule of a chaos run: a pure function of a seed, so that a failing run can be replayed.

`schedule(seed, duration)` draws, from `random.Random(seed)` and nothing else (no clock, no environment), a
timeline of steps: SIGKILL a node's app, its CometBFT or both (in either order), restart it, partition the
network (a 2/2 split, or one node isolated: every link across cut, connections refused or blackholed), heal,
and quiet periods with no new fault. It keeps to these bounds:
- at most `max_down(nodes)` nodes down at once, one more than the network tolerates, so it sometimes halts;
- at most one partition at a time; a node is killed only when up and restarted only when down;
- each node stays down at most DOWN_S[1] s, each partition lasts at most PARTITION_S[1] s;
- every step lies within [0, duration], and by `duration` every node is restarted and every link healed.
The same seed and duration give the same steps, at the same offsets from the start; a run replays the kinds of
moment, not the same milliseconds, since real processes take their own time to die and start.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from civichain.chaos.proxy import ChaosError

ACTIONS = ("kill", "restart", "partition", "heal", "quiet")
KILLS = (("app",), ("cometbft",), ("app", "cometbft"), ("cometbft", "app"))   # the processes, in kill order
GAP_S = (1.0, 5.0)           # between one new fault (or quiet period) and the next
DOWN_S = (1.0, 6.0)          # how long a killed node stays down
PARTITION_S = (2.0, 6.0)     # how long a partition lasts
QUIET_S = (2.0, 5.0)         # how long a quiet period lasts
LAST_FAULT_S = 1.0           # no new fault in the last second: each lasts a moment before the end heals it
WEIGHTS = {"kill": 45, "partition": 20, "quiet": 35}


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a chaos schedule, `at_s` seconds after the schedule starts.

    kill: SIGKILL `roles` of node `nodes[0]`, in order. restart: bring node `nodes[0]` back (the supervisor's
    recover). partition: cut every link between `nodes` and `others`, refusing new connections or, with
    `blackhole`, holding them silent. heal: heal every cut link. quiet: no new fault for `length_s` seconds.
    """

    at_s: float
    action: str
    nodes: tuple[int, ...] = ()
    others: tuple[int, ...] = ()
    roles: tuple[str, ...] = ()
    blackhole: bool = False
    length_s: float = 0.0

    def __str__(self) -> str:
        names = lambda group: "{" + ",".join(f"node{n}" for n in group) + "}"   # noqa: E731
        if self.action == "kill":
            return f"kill node{self.nodes[0]} {'+'.join(self.roles)} (SIGKILL)"
        if self.action == "restart":
            return f"restart node{self.nodes[0]}"
        if self.action == "partition":
            how = "blackholed" if self.blackhole else "refused"
            if len(self.nodes) == 1:
                return f"isolate node{self.nodes[0]} from {names(self.others)} ({how})"
            return f"partition {names(self.nodes)} | {names(self.others)} ({how})"
        if self.action == "heal":
            return "heal every link"
        return f"quiet for {self.length_s:.1f} s"


def max_down(nodes: int) -> int:
    """Return how many nodes may be down at once: one more than the f = (n-1)/3 faults BFT tolerates."""
    return (nodes - 1) // 3 + 1


def schedule(seed: int, duration: float, nodes: int = 4) -> list[Step]:
    """Return the steps of the chaos run `seed` over `duration` seconds on `nodes` validators, in time order.

    Pure: the same arguments give the same list. Raises `chaos.invalid_schedule` for a duration that is not
    positive or fewer than two nodes.
    """
    if duration <= 0 or nodes < 2:
        raise ChaosError("chaos.invalid_schedule", where="duration, nodes", got=(duration, nodes),
                         expected="a positive duration and at least two nodes")
    rng = random.Random(seed)
    steps: list[Step] = []
    pending: list[Step] = []        # restarts and heals planned, not yet due
    down: set[int] = set()
    partitioned = False
    t = 0.0
    while True:
        t = round(t + rng.uniform(*GAP_S), 1)
        for step in _due(pending, t):
            steps.append(step)
            if step.action == "restart":
                down.discard(step.nodes[0])
            else:
                partitioned = False
        if t > duration - LAST_FAULT_S:
            break
        allowed = [a for a in WEIGHTS if (a != "kill" or len(down) < max_down(nodes))
                   and (a != "partition" or not partitioned)]
        action = rng.choices(allowed, weights=[WEIGHTS[a] for a in allowed])[0]
        if action == "kill":
            victim = rng.choice(sorted(set(range(nodes)) - down))
            down.add(victim)
            steps.append(Step(t, "kill", nodes=(victim,), roles=rng.choice(KILLS)))
            pending.append(Step(_until(t, DOWN_S, duration, rng), "restart", nodes=(victim,)))
        elif action == "partition":
            partitioned = True
            steps.append(_partition(t, nodes, rng))
            pending.append(Step(_until(t, PARTITION_S, duration, rng), "heal"))
        else:
            length = round(rng.uniform(*QUIET_S), 1)
            steps.append(Step(t, "quiet", length_s=length))
            t += length
    steps.extend(_due(pending, float(duration)))
    return steps


def _partition(t: float, nodes: int, rng: random.Random) -> Step:
    """Return a partition at `t`: half the nodes against the other half, or one node against the rest."""
    if rng.random() < 0.5:
        side = tuple(sorted(rng.sample(range(nodes), nodes // 2)))
    else:
        side = (rng.randrange(nodes),)
    others = tuple(n for n in range(nodes) if n not in side)
    return Step(t, "partition", nodes=side, others=others, blackhole=rng.random() < 0.3)


def _until(t: float, bounds: tuple[float, float], duration: float, rng: random.Random) -> float:
    """Return when a fault starting at `t` ends: a draw within `bounds`, never after `duration`."""
    return min(round(t + rng.uniform(*bounds), 1), float(duration))


def _due(pending: list[Step], t: float) -> list[Step]:
    """Remove and return the pending steps due by `t`, earliest first (planning order among equal times)."""
    due = sorted((s for s in pending if s.at_s <= t), key=lambda s: s.at_s)
    pending[:] = [s for s in pending if s.at_s > t]
    return due
