"""shared/prices/forecast.py: its metrics and baselines by hand, and its statistics against hand
computations and independent implementations: the Diebold-Mariano test (horizons 1 to 3), its
seed-averaged form, the Holm correction, the sample spread over seeds, the validation-tuned
ridge, the naive direction bar; and the stage 3 report's sentences, which must follow from
their numbers."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import ROOT
from scipy import stats

from shared.prices import features, forecast, market, windows

from tools.loader import load_stage_config

memory_report = load_stage_config(ROOT / "MemoryLLM" / "report.py")


def reference_dm(loss, baseline_loss, horizon):
    """Diebold-Mariano with the HLN correction written out loop by loop (no vector tricks),
    so it shares no code with shared/prices/forecast.py."""
    d = [a - b for a, b in zip(loss, baseline_loss, strict=True)]
    n = len(d)
    mean = sum(d) / n
    gamma = []
    for k in range(horizon):
        total = 0.0
        for t in range(k, n):
            total += (d[t] - mean) * (d[t - k] - mean)
        gamma.append(total / n)
    long_run = gamma[0] + 2 * sum(gamma[1:])
    statistic = mean / math.sqrt(long_run / n)
    statistic *= math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return statistic, 2 * stats.t.sf(abs(statistic), df=n - 1)


def test_diebold_mariano_horizon_two_by_hand():
    # d = [3, 2, 1, -1, 0]: mean 1, centred [2, 1, 0, -2, -1]; gamma0 = 10/5 = 2,
    # gamma1 = (1*2 + 0*1 + -2*0 + -1*-2)/5 = 0.8; variance of the mean (2 + 2*0.8)/5 = 0.72;
    # HLN factor sqrt((5 + 1 - 4 + 2/5)/5) = sqrt(0.48): statistic sqrt(0.48/0.72) = sqrt(2/3).
    stat, p = forecast.diebold_mariano_losses([3.0, 2.0, 1.0, -1.0, 0.0], [0.0] * 5, horizon=2)
    assert stat == pytest.approx(math.sqrt(2 / 3))
    # Student t with 4 degrees of freedom has a closed-form CDF.
    u = 1 + stat**2 / 4
    cdf = 0.5 + 3 / 8 * stat / math.sqrt(u) * (1 - stat**2 / (12 * u))
    assert p == pytest.approx(2 * (1 - cdf))
    # Horizon 1 on the same d ignores the autocovariance: sqrt(4/5) * 1 / sqrt(2/5) = sqrt(2).
    assert forecast.diebold_mariano_losses([3.0, 2.0, 1.0, -1.0, 0.0], [0.0] * 5)[0] == pytest.approx(
        math.sqrt(2))


@pytest.mark.parametrize("horizon", [1, 3])
def test_diebold_mariano_matches_a_loop_implementation(horizon):
    rng = np.random.default_rng(horizon)
    actual = 100 + np.cumsum(rng.normal(size=60))
    predicted = actual + rng.normal(scale=1.0, size=60)
    baseline = actual + rng.normal(scale=1.3, size=60)
    expected = reference_dm(((actual - predicted) ** 2).tolist(), ((actual - baseline) ** 2).tolist(),
                            horizon)
    assert forecast.diebold_mariano(actual, predicted, baseline, horizon) == pytest.approx(expected)


def test_dm_on_seed_averaged_losses():
    # Two seeds: their squared errors are averaged day by day (not their forecasts).
    actual = np.array([10.0, 11.0, 12.0, 9.0, 10.0])
    seeds = np.array([[11.0, 9.0], [11.0, 12.0], [12.5, 11.0], [9.0, 10.0], [8.0, 10.0]])
    baseline = np.array([9.0, 10.0, 11.0, 12.0, 9.0])
    averaged = [((s[0] - a) ** 2 + (s[1] - a) ** 2) / 2 for s, a in zip(seeds, actual, strict=True)]
    assert averaged[0] == 1.0  # (1 + 1) / 2, where the mean forecast 10 would score 0
    expected = reference_dm(averaged, ((actual - baseline) ** 2).tolist(), 1)
    result = forecast.diebold_mariano_seeds(actual, seeds, (actual - baseline) ** 2)
    assert result == pytest.approx(expected)


def test_holm_by_hand():
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> 0.04 is
    # raised to 0.06 (an adjusted p never falls below a smaller p's); back in input order.
    assert forecast.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert forecast.holm([0.5, 0.6]) == [1.0, 1.0]  # 0.5 * 2 = 1, and 0.6 is raised to it
    assert forecast.holm([0.02, 0.02]) == pytest.approx([0.04, 0.04])
    assert forecast.holm([0.3]) == [0.3]


def test_seed_spread_is_the_sample_standard_deviation():
    summary = forecast.summarise_seeds([{"rmse": 1.0}, {"rmse": 3.0}, {"rmse": 5.0}])
    assert summary["rmse_mean"] == 3.0
    assert summary["rmse_std"] == pytest.approx(2.0)  # sqrt((4 + 0 + 4) / 2), not sqrt(8 / 3)
    assert forecast.summarise_seeds([{"rmse": 1.0}]) == {"rmse_mean": 1.0, "rmse_std": None}
    # Per-seed DM keys never get a mean; validation metrics do (targets can sit on validation).
    keys = forecast.seed_summary([{"test_rmse": 1.0, "val_theil_u": 1.0, "test_dm_pvalue": 0.2,
                                   "test_rmse_by_step": [1.0], "seed": 42}] * 2)
    assert set(keys) == {"test_rmse_mean", "test_rmse_std", "val_theil_u_mean", "val_theil_u_std"}


@pytest.fixture(scope="module")
def goog():
    return windows.make_dataset(features.add_indicators(market.load_prices()), 60, "return",
                                features.FEATURES)


@pytest.fixture(scope="module")
def goog_baselines(goog):
    """metrics.json's baselines and their test forecasts (fitting the ridge once per module)."""
    return forecast.baseline_results(goog)


def closed_form_ridge(data, alpha):
    """Ridge with an unpenalised intercept by the normal equations, in NumPy."""
    x = data.train.x.reshape(len(data.train.x), -1).astype(np.float64)
    y = data.train.y.astype(np.float64)
    x_mean, y_mean = x.mean(axis=0), y.mean()
    xc = x - x_mean
    coef = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - y_mean))
    return lambda split: data.to_price(
        split.x.reshape(len(split.x), -1).astype(np.float64) @ coef + (y_mean - x_mean @ coef), split)


def test_ridge_penalty_is_the_validation_optimum_inside_the_grid(goog, goog_baselines):
    val_rmse = {}
    for alpha in forecast.RIDGE_ALPHAS:
        predict = closed_form_ridge(goog, alpha)
        val_rmse[alpha] = np.sqrt(np.mean((predict(goog.val) - goog.val.close) ** 2))
    best = min(val_rmse, key=val_rmse.get)
    results, test_forecasts = goog_baselines
    info = results["ridge"]
    assert info["alpha"] == best
    assert forecast.RIDGE_ALPHAS[0] < best < forecast.RIDGE_ALPHAS[-1] and not info["at_grid_edge"]
    assert (info["alpha_grid_min"], info["alpha_grid_max"]) == (forecast.RIDGE_ALPHAS[0],
                                                                forecast.RIDGE_ALPHAS[-1])
    assert info["val_rmse"] == pytest.approx(val_rmse[best], rel=1e-6)
    np.testing.assert_allclose(test_forecasts["ridge"], closed_form_ridge(goog, best)(goog.test),
                               rtol=1e-6)
    # Far better than ordinary least squares on 1,200 inputs (the old "linear" baseline, U 1.965).
    assert info["test_theil_u"] < 1.1


def test_ridge_grid_grows_past_an_edge(goog):
    _, info = forecast.ridge_baseline(goog, alphas=(1e3, 1e4, 1e5))  # the best would be 1e5
    assert info["alpha_grid_max"] > info["alpha"] > 1e5
    assert not info["at_grid_edge"]
    # A noise-free linear target: the smallest penalty wins, so the grid grows downwards.
    rng = np.random.default_rng(0)

    def split(n):
        x = rng.normal(size=(n, 3, 2)).astype(np.float32)
        y = x.reshape(n, -1) @ np.array([1.0, -2.0, 0.5, 0.0, 3.0, 1.0])
        return SimpleNamespace(x=x, y=y, close=y)

    toy = SimpleNamespace(train=split(200), val=split(50), to_price=lambda y, s: y)
    _, info = forecast.ridge_baseline(toy, alphas=(1.0, 10.0, 100.0))
    assert info["alpha_grid_min"] < 1.0 and info["alpha"] < 1.0


def test_drift_direction_is_the_training_drift_sign(goog, goog_baselines):
    results, _ = goog_baselines
    step = (goog.train.close[-1] - goog.train.close[0]) / (len(goog.train.close) - 1)
    assert results["drift"]["daily_step"] == pytest.approx(step)
    moves = np.sign(goog.test.close - goog.test.prev_close)
    moved = moves != 0
    assert results["drift"]["test_directional_accuracy"] == pytest.approx(
        np.mean(moves[moved] == np.sign(step)))
    assert set(results) == {"persistence", "drift", "ridge"}
    assert results["ridge"]["val_rmse"] < results["persistence"]["val_rmse"] * 1.01


def fake_metrics(lstm_u=1.02, ridge_u=1.006, lstm_direction=0.476, lstm_p=0.04):
    baseline = {"test_rmse": 9.3, "test_mae": 6.4, "test_mape": 1.0, "test_r2": 0.98,
                "test_directional_accuracy": 0.539, "test_theil_u": 1.0}
    return {
        "test_dm_stat": 2.0, "test_dm_pvalue": lstm_p, "seeds": 3, "params": 100, "target": "return",
        "test_start": "2011-12-09", "test_end": "2013-03-01", "test_days": 306, "train_seconds": 20,
        "seconds_per_epoch": 0.5, "test_theil_u_mean": lstm_u, "test_theil_u_std": 0.01,
        "test_directional_accuracy_mean": lstm_direction,
        "baselines": {"persistence": baseline,
                      "drift": {**baseline, "test_dm_stat": -0.9, "test_dm_pvalue": 0.3,
                                "daily_step": 0.4},
                      "ridge": {**baseline, "test_theil_u": ridge_u, "test_dm_stat": 1.0,
                                "test_dm_pvalue": 0.01, "alpha": 1e6, "alpha_grid_min": 0.01,
                                "alpha_grid_max": 1e7, "alpha_grid_points": 10,
                                "at_grid_edge": False}},
    }


def test_memoryllm_sentences_follow_the_numbers():
    m = fake_metrics()
    # Holm over the page's 3 tests: 0.01 * 3, then 0.04 * 2, then 0.3 * 1 (raised to nothing).
    t = memory_report.tests(m)
    assert [t[k]["holm"] for k in ("ridge", "LSTM", "drift")] == pytest.approx([0.03, 0.08, 0.3])
    text = memory_report.summary(m)
    assert "no significant difference from persistence (p = 0.040, Holm-adjusted 0.080" in text
    assert "Holm-corrected across the 3 tests on this page, at the 5% level" in text
    assert "ties" not in text
    assert "Theil's U 1.006, lower than the LSTM's" in memory_report.ridge_sentence(m)
    assert "not lower" in memory_report.ridge_sentence(fake_metrics(ridge_u=1.03))
    direction = memory_report.direction_sentence(m)
    assert "47.6%" in direction and "below the naive bar" in direction and "(a rise) is right on 53.9%" \
        in direction and "coin" not in direction
    assert "above the naive bar" in memory_report.direction_sentence(fake_metrics(lstm_direction=0.6))
    significant = memory_report.summary(fake_metrics(lstm_p=0.001))  # Holm 0.003: stat > 0, worse
    assert "significantly less accurate than persistence" in significant


def test_seed_spread_of_two_seeds_by_hand():
    summary = forecast.summarise_seeds([{"rmse": 1.0}, {"rmse": 3.0}])
    assert summary == {"rmse_mean": 2.0, "rmse_std": pytest.approx(math.sqrt(2))}  # ddof=1


def test_price_metrics_by_hand():
    actual, predicted, previous = [10.0, 11.0, 12.0], [10.0, 12.0, 12.0], [9.0, 10.0, 11.0]
    m = forecast.price_metrics(actual, predicted, previous)
    assert m["test_rmse"] == pytest.approx(math.sqrt(1 / 3))
    assert m["test_mae"] == pytest.approx(1 / 3)
    assert m["test_mape"] == pytest.approx(100 * (1 / 11) / 3)
    assert m["test_r2"] == pytest.approx(0.5)  # SS_res 1, SS_tot 2
    assert m["test_directional_accuracy"] == 1.0
    assert m["test_theil_u"] == pytest.approx(math.sqrt(1 / 3))  # persistence RMSE is 1


def test_diebold_mariano_by_hand():
    # Loss differences d = [-1, 0, -1]: mean -2/3, variance of the mean 2/27, HLN factor
    # sqrt(2/3) -> statistic -2; two-sided p from Student t with 2 df: 2 * 0.0918 = 0.1835.
    stat, p = forecast.diebold_mariano([10.0, 11.0, 12.0], [10.0, 12.0, 12.0], [9.0, 10.0, 11.0])
    assert stat == pytest.approx(-2.0)
    assert p == pytest.approx(2 * (0.5 - 1 / math.sqrt(6)), rel=1e-6)


def test_baselines_by_hand():
    assert forecast.persistence([5.0, 6.0]).tolist() == [5.0, 6.0]
    assert forecast.drift([5.0, 6.0], train_close=[1.0, 2.0, 4.0]).tolist() == [6.5, 7.5]
    assert forecast.directional_accuracy([2.0, 0.0], [1.5, 1.0], [1.0, 1.0]) == 0.5
