"""The two-generation cache keeps recent entries and stays bounded."""

from hypothesis import given, strategies as st

from civichain.execution.cache import TwoGenerationCache


@given(st.lists(st.tuples(st.integers(0, 50), st.integers()), max_size=300), st.integers(1, 20))
def test_cache_is_bounded_and_never_returns_a_stale_value(operations, capacity):
    cache, truth = TwoGenerationCache(capacity), {}
    for key, value in operations:
        cache.put(key, value)
        truth[key] = value
        assert len(cache) <= 2 * capacity
        for k in range(51):
            got = cache.get(k)
            assert got is None or got == truth[k]


def test_the_last_entry_put_is_always_there():
    cache = TwoGenerationCache(3)
    for i in range(100):
        cache.put(i, str(i))
        assert cache.get(i) == str(i)
