"""The claims study of stage 3 vs 4: the synthetic series' known optimum, the attention-at-lag
measure, the bad-input messages, and `--claims --smoke` end to end."""

import re

import numpy as np
import pytest
from conftest import ROOT, assert_one_line_error, call_main, project_folder, read_json, run_script

from shared.prices import attribution, features, market, synthetic, windows
from shared.runtime.errors import UserError


def test_lag_series_optimum_matches_closed_form():
    """r_t = phi r_{t-L} + e_t: the best forecast phi r_{t-L} (recomputed here from the returns
    alone) errs by e_t, so its RMSE is the noise's std; the returns' own std is
    noise / sqrt(1 - phi^2), the RMSE of forecasting no change."""
    task = synthetic.Task(kind="lag", lag=7, phi=0.6, noise=0.02, days=60_000, seed=3)
    r, best = synthetic.returns(task)
    by_hand = 0.6 * r[:-7]
    assert np.allclose(best[7:], by_hand)
    assert np.sqrt(np.mean((r[7:] - by_hand) ** 2)) == pytest.approx(0.02, rel=0.01)
    assert np.sqrt(np.mean(r**2)) == pytest.approx(0.02 / np.sqrt(1 - 0.36), rel=0.02)


def test_seasonal_series_optimum_matches_closed_form():
    """r_t = A sin(2 pi t / P) + e_t: mean square A^2 / 2 + noise^2; the best RMSE is the noise's."""
    task = synthetic.Task(kind="seasonal", period=20, amplitude=0.03, noise=0.01, days=40_000)
    r, best = synthetic.returns(task)
    t = np.arange(task.days)
    assert np.allclose(best, 0.03 * np.sin(2 * np.pi * t / 20))
    assert np.sqrt(np.mean((r - best) ** 2)) == pytest.approx(0.01, rel=0.02)
    assert np.mean(r**2) == pytest.approx(0.03**2 / 2 + 0.01**2, rel=0.03)


def test_synthetic_csv_reads_back_as_the_returns(tmp_path):
    """The file a stage reads (through market's checks) gives back the generated log returns,
    and best_forecast lines up with the dates the windows predict."""
    task = synthetic.Task(kind="mix", lag=5, period=10, days=600)
    prices = market.load_prices(csv=synthetic.write_csv(task, tmp_path / "s.csv"))
    r, best = synthetic.returns(task)
    assert np.allclose(np.log(prices["close"]).diff().to_numpy()[1:], r[1:], atol=1e-8)
    data = windows.make_dataset(features.add_indicators(prices), 30, "return", features.FEATURES)
    actual = np.log(data.test.close / data.test.prev_close)
    where = np.searchsorted(prices.index, data.test.dates)
    assert np.allclose(actual, r[where], atol=1e-8)
    assert np.allclose(synthetic.best_forecast(task, data.test.dates), best[where])


def test_attention_at_the_true_lag_on_a_hand_built_matrix():
    # Two heads over a 4-day window, oldest day first: lag 1 is the last column, lag 4 the first.
    heads = np.array([[0.1, 0.2, 0.3, 0.4],
                      [0.7, 0.1, 0.1, 0.1]])
    assert attribution.share_at_lag(heads, lag=1).tolist() == pytest.approx([0.4, 0.1])
    assert attribution.lift_at_lag(heads, lag=4).tolist() == pytest.approx([0.4, 2.8])
    # Weights that do not sum to 1 (a saliency vector) are normalised first.
    assert attribution.lift_at_lag([1.0, 1.0, 2.0], lag=1) == pytest.approx(1.5)
    # Patches of 3 days: 2 tokens cover 6 days; lag 4 lies in the older token.
    assert attribution.share_at_lag([0.25, 0.75], lag=4, patch=3) == pytest.approx(0.25)
    assert attribution.share_at_lag([0.25, 0.75], lag=3, patch=3) == pytest.approx(0.75)
    with pytest.raises(UserError, match="outside a window of 6 days"):
        attribution.share_at_lag([0.5, 0.5], lag=7, patch=3)


def test_bad_synthetic_settings_are_one_line():
    with pytest.raises(UserError, match="choose one of"):
        synthetic.Task(kind="trend")
    with pytest.raises(UserError, match=r"\|phi\| < 1"):
        synthetic.Task(phi=1.0)


def test_lag_longer_than_the_window_is_one_line(tmp_path):
    result = run_script("CodeLLM/compare/claims.py", "--smoke", "--parts", "memory", "--lags", "30",
                        "--out-dir", tmp_path, "--docs-dir", tmp_path, check=False)
    assert_one_line_error(result, "longer than the window")


@pytest.mark.slow
def test_claims_smoke_end_to_end(tmp_path):
    """`compare.py --claims --smoke` trains every part, writes claims.json and a page whose
    claims table and evidence hold the numbers of that file."""
    result = run_script("CodeLLM/compare/compare.py", "--claims", "--smoke",
                        "--out-dir", tmp_path, "--docs-dir", tmp_path / "docs", timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    c = read_json(tmp_path / "smoke-claims" / "claims.json")
    # Dozens of runs, no live curves unless --tensorboard asks for them.
    assert not list((tmp_path / "smoke-claims" / "runs").glob("*/tensorboard"))
    page = (tmp_path / "docs" / "stage3-vs-stage4.md").read_text()
    assert set(c) >= {"memory", "pattern", "speed", "data", "pool"}
    table = page.split("## The claims at a glance")[1].split("##")[0]
    assert len(re.findall(r"\(#claims-\w+\)", table)) == 5  # every row but accuracy links its evidence
    for anchor in ("claims-memory", "claims-speed", "claims-data", "claims-pool", "claims-pattern"):
        assert f'<a id="{anchor}"></a>' in page
    row = c["memory"]["rows"][0]
    for cell in row["models"].values():  # the memory table shows every seed's ratio
        assert f"{np.mean(cell['ratio']):.3f}" in page
    assert f"{row['models']['transformer']['ridge_ratio']:.3f}" in page
    speed = c["speed"]["rows"][0]["models"]["torch-lstm"]["seconds_per_epoch"]
    assert f"{speed:.2f}" in page
    pool = c["pool"]["models"]["transformer"]
    assert f"{pool['dm_pvalue']:.3f}" in page
    # --report --check agrees with the page it just wrote, and notices an edit.
    check = ["--report", "--check", "--smoke", "--out-dir", tmp_path, "--docs-dir", tmp_path / "docs"]
    assert call_main("CodeLLM/compare/claims.py", *check) == 0
    (tmp_path / "docs" / "stage3-vs-stage4.md").write_text(page.replace("verdict", "verdikt"))
    assert call_main("CodeLLM/compare/claims.py", *check) == 1


def _cell(ratio, lift=None, saliency=None):
    cell = {"ratio": [ratio], "ratio_mean": ratio, "ridge_ratio": 1.01, "persistence_ratio": 1.4}
    if lift is not None:
        cell["attention_lift"] = lift
    if saliency is not None:
        cell["saliency_lift"] = saliency
    return cell


def _memory(transformer, lstm):
    """Memory rows at lags 1, 20, 60 with the given RMSE / optimal per lag."""
    return {"rows": [{"lag": lag, "window": 60,
                      "models": {"torch-lstm": _cell(lstm[i], saliency=3.0),
                                 "transformer": _cell(transformer[i], lift=[0.5, 40.0])}}
                     for i, lag in enumerate((1, 20, 60))]}


def test_committed_claims_page_is_up_to_date():
    """docs/stage3-vs-stage4.md holds what claims.json and the GOOG comparison say."""
    assert call_main("CodeLLM/compare/claims.py", "--report", "--check") == 0


def test_claim_verdicts_follow_the_numbers():
    """The verdicts are rules on the numbers: the same page code says "supported" or
    "contradicted" as the hand-made results say, and the evidence quotes the reach."""
    with project_folder(ROOT / "CodeLLM" / "compare"):
        import claims_report

        verdict, text = claims_report.memory_verdict(_memory([1.01, 1.02, 1.03], [1.01, 1.30, 1.35]))
        assert verdict == "supported"
        assert "PyTorch LSTM lag 1" in text and "transformer lag 60" in text
        verdict, _ = claims_report.memory_verdict(_memory([1.01, 1.30, 1.35], [1.01, 1.02, 1.03]))
        assert verdict.startswith("contradicted")
        # The reach is the longest lag used, even past a lag that failed; none when none is near.
        assert claims_report.reach(_memory([1.30, 1.01, 1.30], [1.3] * 3)["rows"], "transformer") == 20
        assert claims_report.reach(_memory([1.30] * 3, [1.3] * 3)["rows"], "torch-lstm") is None
        # Attention: accurate cells whose best head gives the lag >= 2x an even spread.
        verdict, text = claims_report.attention_verdict(_memory([1.01, 1.02, 1.5], [1.3] * 3))
        assert verdict == "supported" and "in 2 of them" in text
        verdict, _ = claims_report.attention_verdict(_memory([1.5] * 3, [1.3] * 3))
        assert verdict == "not testable here"
