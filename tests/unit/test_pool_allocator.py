"""The prioritization allocator over minutes of virtual time (DESIGN §6): a high-ranked pool keeps its
minimum while a low-ranked one floods, an idle pool lends its share and gets it back within the
cooldown, shares never add up past 100 %. Every assertion prints the allocation timeline."""

from __future__ import annotations

from collections import deque

from vmx_app.gateway.capacity.pools import COOLDOWN_S, WINDOW_S, Allocation, Pool, Share, allocate

T = 60_000  # the connection's minute token capacity
HIGH = Pool("interactive", 1, 40, 100, ("r-chat",))
LOW = Pool("batch", 2, 10, 100, ("r-batch",))


class Simulation:
    """1-second ticks: each pool sends `demand` percent of T per minute, admitted up to its share."""

    def __init__(self, pools: list[Pool]) -> None:
        self.pools = pools
        self.allocation = Allocation()
        self.history: deque[dict[str, int]] = deque()  # tokens admitted per second, per pool
        self.timeline: list[str] = []
        self.now = 0.0

    def tick(self, demand: dict[str, float]) -> Allocation:
        admitted = {}
        for pool in self.pools:
            want = demand.get(pool.name, 0.0)
            allowed = self.allocation.limit_percent(pool) if want > 0 else 0.0
            admitted[pool.name] = int(min(want, allowed) / 100 * T / 60)
        self.history.append(admitted)
        while len(self.history) > WINDOW_S:
            self.history.popleft()
        window = {p.name: sum(second[p.name] for second in self.history) for p in self.pools}
        self.allocation = allocate(self.pools, window, T, self.allocation, self.now)
        self.timeline.append(f"t={self.now:>5.0f}s " + " ".join(
            f"{p.name}={self.allocation.percent(p):5.1f}%" for p in self.pools))
        self.now += 1
        return self.allocation

    def story(self) -> str:
        return "allocation over time:\n" + "\n".join(self.timeline)


def test_high_rank_keeps_its_minimum_while_a_low_rank_pool_floods() -> None:
    sim = Simulation([LOW, HIGH])  # listed out of order on purpose: rank decides, not position
    for _ in range(180):
        alloc = sim.tick({"interactive": 30, "batch": 500})
        assert alloc.percent(HIGH) >= 40, sim.story()
        assert sum(s.current for s in alloc.shares.values()) <= 100 + 1e-6, sim.story()
    assert alloc.percent(LOW) >= 40, sim.story()  # the flood gets what the high pool leaves


def test_high_rank_grows_past_its_minimum_by_taking_from_lower_pools() -> None:
    sim = Simulation([HIGH, LOW])
    for _ in range(120):
        alloc = sim.tick({"interactive": 70, "batch": 500})
    assert alloc.percent(HIGH) >= 70 and alloc.percent(LOW) >= 10, sim.story()
    assert abs(alloc.percent(HIGH) + alloc.percent(LOW) - 100) < 1e-6, sim.story()


def test_idle_pool_lends_its_share_and_gets_it_back_within_the_cooldown() -> None:
    sim = Simulation([HIGH, LOW])
    for _ in range(60):
        sim.tick({"interactive": 30, "batch": 500})
    for _ in range(int(WINDOW_S + COOLDOWN_S) + 5):  # interactive goes quiet
        alloc = sim.tick({"batch": 500})
    assert alloc.percent(HIGH) == 0 and alloc.percent(LOW) >= 90, sim.story()
    back_at = sim.now
    while sim.now < back_at + COOLDOWN_S:
        alloc = sim.tick({"interactive": 30, "batch": 500})
    assert alloc.percent(HIGH) >= 40 and alloc.percent(LOW) <= 60, sim.story()


def test_a_low_pool_never_takes_from_an_active_higher_pools_minimum() -> None:
    sim = Simulation([HIGH, LOW])
    for _ in range(90):
        alloc = sim.tick({"interactive": 5, "batch": 1000})
        assert alloc.percent(HIGH) >= 40 and alloc.percent(LOW) <= 60, sim.story()


def test_shares_shrink_only_after_the_cooldown() -> None:
    sim = Simulation([HIGH])
    for _ in range(40):
        sim.tick({"interactive": 45})
    grown = sim.allocation.percent(HIGH)
    assert grown > 80, sim.story()
    grew_at = sim.allocation.shares["interactive"].grew_at
    assert grew_at is not None
    alloc = sim.tick({"interactive": 1})  # demand falls, but the window still holds 30 s of traffic
    assert alloc.percent(HIGH) == grown, sim.story()
    for _ in range(int(WINDOW_S) + 10):
        alloc = sim.tick({"interactive": 1})
    assert 40 <= alloc.percent(HIGH) < grown, sim.story()


def test_cooldown_holds_a_share_that_just_grew() -> None:
    quiet = {"interactive": 600}  # 1.2 % of T per minute: it wants its 40 % minimum
    grew = Allocation({"interactive": Share(90.0, grew_at=100.0)}, 100.0)
    assert allocate([HIGH], quiet, T, grew, 100.0 + COOLDOWN_S - 1).percent(HIGH) == 90.0
    assert allocate([HIGH], quiet, T, grew, 100.0 + COOLDOWN_S + 1).percent(HIGH) == 40.0
