"""verify() evaluates Phi_inv in its tails, so a tail quantile off by a relative 1e-30 fails it."""

import mpmath
import pytest

import isobounds.symbolic._mp as mp_kernels
from isobounds.symbolic import verification


@pytest.fixture
def skewed_tail_quantile(monkeypatch):
    exact = mp_kernels.lower_quantile
    monkeypatch.setattr(mp_kernels, "lower_quantile", lambda p: exact(p) * (1 + mpmath.mpf("1e-30")))


def test_tail_checks_pass():
    checks = verification._tail_checks(verification._Sampler(0, 10, 50))
    assert [check.passed for check in checks] == [True, True]


def test_tail_checks_catch_skewed_quantile(skewed_tail_quantile):
    checks = verification._tail_checks(verification._Sampler(0, 10, 50))
    assert [check.passed for check in checks] == [False, False]


def test_uncorrected_counterexample_passes():
    check = verification._uncorrected_counterexample_check(verification._Sampler(0, 1, 50))
    assert check.passed
    assert "kl_bracket(v, 1, 2, 1/2) = 0" in check.detail


def test_uncorrected_counterexample_catches_uncorrected_bracket(monkeypatch):
    # The published Theorem 7 without its condition beta >= v.
    def uncorrected(target_shell_mass, r, lip, model_mass):
        return verification.kl_bin(verification.shell_mass_lower_bound(model_mass, r, lip), target_shell_mass)

    monkeypatch.setattr(verification, "kl_bracket", uncorrected)
    assert not verification._uncorrected_counterexample_check(verification._Sampler(0, 1, 50)).passed


def test_corollary_8_against_independent_theorem_7(skewed_tail_quantile):
    # The bracket written with erf and erfinv does not share Phi_inv, so the skewed kernel shows.
    checks = verification._corollary_6_and_8_checks(verification._Sampler(0, 10, 50))
    corollary_8 = [check for check in checks if check.claim.startswith("for lambda <= 1/2")]
    assert len(corollary_8) == 1
    assert not corollary_8[0].passed
