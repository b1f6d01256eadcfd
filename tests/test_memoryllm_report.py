"""MemoryLLM/report.py's variants section: the --attention and --bidirectional reference runs
against the plain LSTM, every sentence computed from the numbers. (That the committed README
matches the committed runs is tests/test_docs.py's `report.py --check`.)"""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, read_json, run_script

from shared.prices import forecast
from shared.runtime.errors import UserError

from tools.loader import load_stage_config

report = load_stage_config(ROOT / "MemoryLLM" / "report.py")  # by path: stages share module names
RESULTS = ROOT / "MemoryLLM" / "results"
ATTENTION, BIDIRECTIONAL = (label for _, label in report.VARIANTS.values())


def metrics(rmse: float, dm_stat: float, dm_p: float, **more) -> dict:
    """A hand-made metrics.json with what the page reads."""
    baseline = {"test_rmse": 9.3, "test_mae": 6.4, "test_mape": 1.0, "test_r2": 0.98,
                "test_directional_accuracy": 0.54, "test_theil_u": 1.0}
    return {"test_rmse_mean": rmse, "test_rmse_std": 0.1, "test_theil_u_mean": rmse / 9.3,
            "test_theil_u_std": 0.01, "test_directional_accuracy_mean": 0.48,
            "test_directional_accuracy_std": 0.01, "test_dm_stat": dm_stat, "test_dm_pvalue": dm_p,
            "seeds": 3, "params": 100, "seconds_per_epoch": 0.5,
            "baselines": {"persistence": baseline,
                          "drift": {**baseline, "test_dm_stat": -0.9, "test_dm_pvalue": 0.3},
                          "ridge": {**baseline, "test_dm_stat": 1.0, "test_dm_pvalue": 0.2}},
            **more}


def test_variant_sentences_follow_the_numbers():
    m = metrics(9.5, 2.0, 0.04)
    variants = {ATTENTION: {"m": metrics(9.8, 3.0, 0.002), "vs_lstm": (2.6, 0.008)},
                BIDIRECTIONAL: {"m": metrics(9.45, 0.5, 0.6), "vs_lstm": (-0.4, 0.7)}}
    t = report.tests(m, variants)
    # Seven tests, one Holm family: 0.002 * 7, 0.008 * 6, 0.04 * 5, 0.2 * 4, then 0.3 * 3 and
    # 0.6 * 2 and 0.7 * 1, raised to the running maximum and capped at 1.
    order = [ATTENTION, f"{ATTENTION} vs LSTM", "LSTM", "ridge", "drift", BIDIRECTIONAL,
             f"{BIDIRECTIONAL} vs LSTM"]
    assert [t[k]["holm"] for k in order] == pytest.approx([0.014, 0.048, 0.2, 0.8, 0.9, 1.0, 1.0])
    worse = report.variant_sentence(ATTENTION, variants[ATTENTION], m, t)
    assert "test RMSE 9.80, 0.30 above the plain LSTM's 9.50" in worse
    assert "significantly less accurate than the plain LSTM (p = 0.008, Holm-adjusted 0.048)" in worse
    assert "significantly less accurate than persistence (p = 0.002, Holm-adjusted 0.014)" in worse
    tie = report.variant_sentence(BIDIRECTIONAL, variants[BIDIRECTIONAL], m, t)
    assert "9.45, 0.05 below the plain LSTM's 9.50" in tie
    assert "no significant difference from the plain LSTM (p = 0.700, Holm-adjusted 1.000)" in tie
    assert "no significant difference from persistence" in tie
    better = {ATTENTION: {"m": metrics(9.0, -3.0, 1e-5), "vs_lstm": (-4.0, 1e-6)}}
    t = report.tests(m, better)
    text = report.variant_sentence(ATTENTION, better[ATTENTION], m, t)
    assert "significantly more accurate than the plain LSTM (p < 0.001, Holm-adjusted < 0.001)" in text
    # The summary's Holm family is the whole page's.
    assert "across the 5 tests on this page" in report.summary(
        {**m, "target": "return", "test_start": "a", "test_end": "b", "test_days": 1,
         "train_seconds": 1, "baselines": {**m["baselines"], "ridge": {
             **m["baselines"]["ridge"], "alpha": 1.0, "alpha_grid_min": 0.1, "alpha_grid_max": 10.0,
             "alpha_grid_points": 3, "at_grid_edge": False}}}, t)


def test_section_table_and_a_missing_run():
    m = metrics(9.5, 2.0, 0.04)
    variants = {ATTENTION: {"m": metrics(9.8, 3.0, 0.002), "vs_lstm": (2.6, 0.008)}, BIDIRECTIONAL: None}
    t = report.tests(m, {ATTENTION: variants[ATTENTION]})
    text = report.variants_section(m, variants, t)
    row = f"| {ATTENTION} | 9.80 ± 0.10 | 1.054 ± 0.010 | 48.0% ± 1.0% | 0.002 | 0.010 | 100 | 0.50 |"
    assert row in text
    assert text.count("The ") == 1 and BIDIRECTIONAL not in text.split("\n\n")[0]
    assert ("`cd MemoryLLM && python train.py --bidirectional --run-name reference-lstm-bidirectional`"
            in text)


def test_dm_against_the_plain_lstm_on_seed_averaged_losses():
    config = read_json(RESULTS / "reference-lstm" / "config.json")
    plain = pd.read_csv(RESULTS / "reference-lstm" / "predictions.csv")
    folder = report.VARIANTS["attention"][0]
    v = report.load_variant(RESULTS / folder, config, plain)
    variant = pd.read_csv(RESULTS / folder / "predictions.csv")

    def losses(frame):
        seeds = frame[[f"seed_{s}" for s in (42, 43, 44)]].to_numpy()
        return ((seeds - frame["actual"].to_numpy()[:, None]) ** 2).mean(axis=1)

    assert v["vs_lstm"] == pytest.approx(forecast.diebold_mariano_losses(losses(variant), losses(plain)))
    assert v["m"] == read_json(RESULTS / folder / "metrics.json")


def test_report_without_variants_and_with_other_data(tmp_path):
    """Variants missing: the section says how to train them; a variant trained on other data
    is refused with one line."""
    run = tmp_path / "results" / "reference-lstm"
    shutil.copytree(RESULTS / "reference-lstm", run)
    readme = tmp_path / "README.md"
    shutil.copyfile(ROOT / "MemoryLLM" / "README.md", readme)
    run_script("MemoryLLM/report.py", "--run-dir", run, "--readme", readme)
    text = readme.read_text(encoding="utf-8")
    section = text.split("<!-- begin: results-variants -->")[1].split("<!-- end")[0]
    assert "--attention --run-name reference-lstm-attention" in section
    assert "--bidirectional --run-name reference-lstm-bidirectional" in section
    assert "across the 3 tests on this page" in text
    other = tmp_path / "results" / "reference-lstm-attention"
    shutil.copytree(RESULTS / "reference-lstm-attention", other)
    config = read_json(other / "config.json")
    (other / "config.json").write_text(json.dumps({**config, "ticker": "MSFT"}), encoding="utf-8")
    proc = run_script("MemoryLLM/report.py", "--run-dir", run, "--readme", readme, check=False)
    assert proc.returncode == 2 and "not trained on the plain LSTM's data (different ticker)" in proc.stderr
    with pytest.raises(UserError, match="ticker"):
        report.load_variant(other, read_json(run / "config.json"), pd.read_csv(run / "predictions.csv"))
    assert np.isfinite(report.seed_losses(pd.read_csv(run / "predictions.csv"))).all()
