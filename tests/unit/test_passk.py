from math import comb

import pytest

from rlce_server.evaluation.passk import mean_pass_at_k, pass_at_k


@pytest.mark.parametrize(("n", "c", "k"), [(10, 3, 1), (10, 3, 5), (100, 7, 10), (100, 0, 100), (5, 5, 1), (20, 19, 2)])
def test_matches_the_exact_formula(n, c, k):
    exact = 1 - comb(n - c, k) / comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)


def test_edges_and_mean():
    assert pass_at_k(1, 1, 1) == 1.0 and pass_at_k(1, 0, 1) == 0.0
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert mean_pass_at_k([(1, 1), (1, 0)], 1) == 0.5
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 10)
