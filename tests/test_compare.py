"""CodeLLM/compare/compare.py as a user runs it (--smoke trains tiny models of all three in
subprocesses), with every figure of comparison.json recomputed here from the runs'
predictions.csv, and the write-ups' sentences checked against the numbers."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_one_line_error, assert_user_error, call_main, read_json, run_script
from test_prices_forecast import reference_dm

from tools.loader import load_stage_config

COMPARE = "CodeLLM/compare/compare.py"
MODELS = ("keras-lstm", "torch-lstm", "transformer")
compare_report = load_stage_config(ROOT / "CodeLLM" / "compare" / "report.py")
memory_report = load_stage_config(ROOT / "MemoryLLM" / "report.py")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    runs, docs = out / "runs", out / "docs"
    run_script(COMPARE, "--smoke", "--out-dir", runs, "--docs-dir", docs, timeout=900)
    folder = runs / "smoke-compare-goog"
    return {"out": runs, "docs": docs, "runs": folder, "c": read_json(folder / "comparison.json"),
            "text": (docs / "stage3-vs-stage4.md").read_text(encoding="utf-8")}


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def brute_holm(pvalues):
    """Holm by its definition: p_i adjusted = max over every p_j <= p_i of (m - rank_j) * p_j."""
    m, ranked = len(pvalues), sorted(pvalues)
    return [min(1.0, max((m - r) * ranked[r] for r in range(m) if ranked[r] <= p)) for p in pvalues]


def test_comparison_figures_recomputed_from_predictions(smoke):
    c, runs = smoke["c"], smoke["runs"]
    frames = {k: pd.read_csv(runs / k / "predictions.csv") for k in MODELS}
    actual, previous = frames["transformer"]["actual"].to_numpy(), frames["transformer"]["prev_close"]
    persistence_loss = ((actual - previous) ** 2).tolist()
    losses = {}
    for key, frame in frames.items():
        seeds = [col for col in frame.columns if col.startswith("seed_")]
        m = c["models"][key]
        assert m["test_rmse_mean"] == pytest.approx(np.mean([rmse(frame[s], actual) for s in seeds]))
        assert m["test_theil_u_mean"] == pytest.approx(
            np.mean([rmse(frame[s], actual) / rmse(previous, actual) for s in seeds]))
        losses[key] = ((frame[seeds].to_numpy() - actual[:, None]) ** 2).mean(axis=1).tolist()
        stat, p = reference_dm(losses[key], persistence_loss, 1)
        assert (m["dm_vs_persistence_stat"], m["dm_vs_persistence_pvalue"]) == pytest.approx((stat, p))
        # metrics.json runs the same single test on the seed-averaged losses.
        assert read_json(runs / key / "metrics.json")["test_dm_pvalue"] == pytest.approx(p)
    for pair in c["pairs"]:
        assert (pair["dm_stat"], pair["dm_pvalue"]) == pytest.approx(
            reference_dm(losses[pair["a"]], losses[pair["b"]], 1))
    for name in ("drift", "ridge"):  # their forecasts are saved next to the seeds'
        b, forecast_ = c["baselines"][name], frames["transformer"][name]
        assert b["test_theil_u"] == pytest.approx(rmse(forecast_, actual) / rmse(previous, actual))
        assert b["test_dm_pvalue"] == pytest.approx(
            reference_dm(((forecast_ - actual) ** 2).tolist(), persistence_loss, 1)[1])
    # Holm over the page's 8 tests: 3 models and 2 baselines against persistence, 3 pairs.
    assert len(c["tests"]) == 8
    assert [t["holm"] for t in c["tests"]] == pytest.approx(brute_holm([t["pvalue"] for t in c["tests"]]))
    assert c["models"]["transformer"]["dm_vs_persistence_holm"] == next(
        t["holm"] for t in c["tests"] if t["test"] == "transformer vs persistence")
    for key in MODELS:  # the Theil's U figure's dots: each seed's U, as its run scored it
        per_seed = [s["test_theil_u"] for s in read_json(runs / key / "metrics.json")["per_seed"]]
        assert c["models"][key]["test_theil_u_per_seed"] == per_seed
        # The comparison asks its runs for no live curves (--no-tensorboard), Keras's or torch's.
        assert not (runs / key / "tensorboard").exists(), key


def test_writeup_states_the_numbers_and_no_more(smoke):
    c, text = smoke["c"], smoke["text"]
    for m in c["models"].values():
        assert f"| **{m['label']}** | {m['test_rmse_mean']:.2f} |" in text  # one seed: no ± spread
        assert f"DM p = {m['dm_vs_persistence_pvalue']:.3f}, Holm p = {m['dm_vs_persistence_holm']:.3f}" \
            in text
    for pair in c["pairs"]:
        assert f"| {pair['dm_pvalue']:.3f} | {pair['dm_holm']:.3f} |" in text
    assert "Holm-corrected across the 8 tests on this page" in text and "5% level" in text
    assert f"| persistence | {c['baselines']['persistence']['test_rmse']:.2f} |" in text
    ridge = c["baselines"]["ridge"]
    assert f"ridge (penalty {ridge['alpha']:g}, chosen on validation)" in text
    assert "ties" not in text and "coin" not in text
    bar = c["baselines"]["drift"]["test_directional_accuracy"]
    assert f"right on {bar:.1%} of test days, the naive bar" in text
    for name in ("theil_u", "predictions", "seconds_per_epoch", "attention_by_lag", "attention_cross"):
        assert (smoke["docs"] / "img" / f"compare-goog-{name}.png").stat().st_size > 5000, name


def test_recipes_side_by_side(smoke):
    c, text = smoke["c"], smoke["text"]
    recipes = {k: read_json(smoke["runs"] / k / "metrics.json")["recipe"] for k in MODELS}
    fields = sorted(set().union(*recipes.values()))
    table = text.split("## Training recipes")[1].split("\n\n")[1]
    assert len(table.splitlines()) == 2 + len(fields)  # header, rule, one row per field
    t, k, p = (recipes[key] for key in ("transformer", "keras-lstm", "torch-lstm"))
    differs = [f for f in fields if t.get(f) != k.get(f) or t.get(f) != p.get(f)]
    sentence = compare_report.recipe_sentence(c)
    if differs:
        named = sentence.split(" fields: ")[1].split(" (the table gives the values)")[0]
        assert sorted(named.split(", ")) == differs
    else:
        assert "exactly the LSTMs' recipe" in sentence
    lstms_differ = any(k.get(f) != p.get(f) for f in fields)
    assert ("The two LSTMs' recipes are the same in every field." in sentence) == (not lstms_differ)
    assert sentence in text
    # Runs saved before recipes were recorded: the page has no table, and says why.
    old = json.loads(json.dumps(c))
    for m in old["models"].values():
        m["recipe"] = None
    page = compare_report.render(old, "compare-goog", [])
    assert "## Training recipes" not in page and "did not record the recipes" in page


def test_report_only_check_and_reanalyse(smoke, tmp_path):
    out, docs = tmp_path / "runs", tmp_path / "docs"
    shutil.copytree(smoke["out"], out)
    shutil.copytree(smoke["docs"], docs)
    check = ["--smoke", "--report-only", "--check", "--out-dir", out, "--docs-dir", docs]
    # in this process: a report-only run trains nothing, so a subprocess would only add imports
    assert call_main(COMPARE, *check) == 0
    page = docs / "stage3-vs-stage4.md"
    page.write_text(smoke["text"].replace("Conclusion", "Verdict"), encoding="utf-8")
    assert call_main(COMPARE, *check) == 1
    # --reanalyse recomputes comparison.json from the saved runs: the same file, the same page.
    for png in (docs / "img").glob("compare-goog-*.png"):
        png.unlink()
    reanalyse = ["--smoke", "--report-only", "--reanalyse", "--out-dir", out, "--docs-dir", docs]
    assert call_main(COMPARE, *reanalyse) == 0
    assert read_json(out / "smoke-compare-goog" / "comparison.json") == smoke["c"]
    assert page.read_text(encoding="utf-8") == smoke["text"]
    # ... and the same figures, byte for byte: `make docs` redraws them without training.
    for name in ("theil_u", "predictions", "seconds_per_epoch"):
        png = f"img/compare-goog-{name}.png"
        assert (docs / png).read_bytes() == (smoke["docs"] / png).read_bytes(), png
    # A comparison.json from before the Holm correction: one line naming the fix.
    saved = out / "smoke-compare-goog" / "comparison.json"
    c = read_json(saved)
    del c["tests"]
    saved.write_text(json.dumps(c), encoding="utf-8")
    assert_one_line_error(run_script(COMPARE, *check, check=False), "--reanalyse")
    assert_user_error(COMPARE, "--ticker", "TSLA", fragments=("bundled data",))


def test_memoryllm_report_on_a_smoke_run(smoke, tmp_path):
    """MemoryLLM/report.py on the comparison's Keras run (the same train.py, one seed)."""
    run, readme = smoke["runs"] / "keras-lstm", tmp_path / "README.md"
    shutil.copyfile(ROOT / "MemoryLLM" / "README.md", readme)
    run_script("MemoryLLM/report.py", "--run-dir", run, "--readme", readme)
    text = readme.read_text(encoding="utf-8")
    m = read_json(run / "metrics.json")
    assert f"| **LSTM** (1 seed) | {m['test_rmse_mean']:.2f} |" in text
    assert f"| {m['test_dm_pvalue']:.3f} | {memory_report.tests(m)['LSTM']['holm']:.3f} |" in text
    assert "±" not in text.split("<!-- begin: results-table -->")[1].split("<!-- end")[0]
    frame = pd.read_csv(run / "predictions.csv")
    move = np.median(np.abs(frame["seed_42"] - frame["prev_close"]))
    assert f"is {move:.2f} away from today's close" in text
    epochs = len(read_json(run / "history.json")["seeds"][0]["loss"])
    limit = read_json(run / "config.json")["epochs"]
    assert (f"every seed ran the full {limit} epochs" in text) == (epochs == limit)
    assert "coin" not in text and "does much worse" not in text
