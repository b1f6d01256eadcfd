"""LLMind: the grouped stratified split (no text in two splits), the CSV loader and label
mapping, both baselines on a tiny set and their C search, a smoke fine-tune whose
predictions.csv reproduces its metrics and that predict.py then loads, safetensors-only loading,
validation-only tuning, and the promised one-line errors. The statistics are in
test_llmind_significance.py."""

from __future__ import annotations

import os
import shutil
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_one_line_error, assert_user_error, read_json, run_script
from tensorboard_events import scalars

from shared.runtime.errors import UserError

from tools.loader import load_stage_config

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
TRAIN, PREDICT = "LLMind/train.py", "LLMind/predict.py"
data = load_stage_config(ROOT / "LLMind" / "data.py")

GOOD = ["a wonderful, moving film", "brilliant acting and a great story", "funny, warm and smart",
        "a delightful surprise", "beautifully shot and deeply felt", "one of the best films this year"]
BAD = ["a dull, tedious mess", "boring and far too long", "the worst script in years",
       "lifeless, clumsy and stupid", "an awful waste of a good cast", "painfully unfunny"]


def sentences(n_per_label: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(f"{rng.choice(words)} {i}", label) for label, words in (("pos", GOOD), ("neg", BAD))
            for i in range(n_per_label)]
    return pd.DataFrame(rows, columns=["review", "sentiment"])


@pytest.fixture(scope="module")
def bundled():
    return data.load_bundled()


def test_bundled_corpus_drops_plot_rows(bundled):
    assert set(bundled["label"]) == {"fresh", "rotten"}
    assert len(bundled) == 7403 + 5405
    assert bundled["text"].str.len().min() > 0


def same_sentence(text: str) -> str:
    """Case and whitespace normalised, written apart from data.normalise (str methods, not pandas)."""
    return " ".join(text.lower().split())


def test_no_sentence_is_in_two_splits(bundled):
    """The leak of issue 16: the film under two names put 36 test sentences word for word into
    training. Compare the texts themselves, not the group names."""
    parts = data.split(bundled, seed=42)
    texts = {name: {same_sentence(t) for t in p["text"]} for name, p in parts.items()}
    assert not texts["train"] & texts["test"]
    assert not texts["train"] & texts["validation"]
    assert not texts["validation"] & texts["test"]
    # Every distinct sentence is kept exactly once (the bundled corpus has no sentence with two
    # labels): 12,808 rows hold 57 repeated copies.
    distinct = {same_sentence(t) for t in bundled["text"]}
    assert sum(len(p) for p in parts.values()) == len(distinct) == len(bundled) - 57
    assert all(len(texts[name]) == len(p) for name, p in parts.items())
    # Both names of the film end up on the same side.
    padre = {name for name, p in parts.items() if p["group"].str.contains("padre_amaro").any()}
    assert len(padre) == 1


def test_split_is_stratified_and_grouped_by_movie(bundled):
    parts = data.split(bundled, seed=42)
    movies = {name: set(p["group"]) for name, p in parts.items()}
    assert not movies["train"] & movies["validation"]
    assert not movies["train"] & movies["test"]
    assert not movies["validation"] & movies["test"]
    fresh = (bundled["label"] == "fresh").mean()
    for part in parts.values():
        assert (part["label"] == "fresh").mean() == pytest.approx(fresh, abs=0.03)
    shares = {name: len(p) / len(bundled) for name, p in parts.items()}
    assert shares["test"] == pytest.approx(0.2, abs=0.03)
    assert shares["validation"] == pytest.approx(0.1, abs=0.03)
    again = data.split(bundled, seed=42)
    assert again["test"]["text"].tolist() == parts["test"]["text"].tolist()  # fixed split


def test_link_groups_joins_groups_that_share_a_text():
    frame = pd.DataFrame({"group": ["a", "a", "b", "c", "d", "e"],
                          "text": ["x", "y", " Y ", "z", "X", "w"], "label": ["p"] * 6})
    ids = data.link_groups(frame)
    # a-b through "y"/" Y ", a-d through "x"/"X"; c and e share nothing with anyone.
    assert ids[0] == ids[1] == ids[2] == ids[4]
    assert len({ids[0], ids[3], ids[5]}) == 3


def test_prepare_drops_repeats_and_contradictions():
    frame = pd.DataFrame({
        "text": ["Good film", "good  FILM", "bad film", "Bad film", "fine", "meh", "meh"],
        "label": ["pos", "pos", "neg", "pos", "pos", "neg", "neg"],
        "group": ["g1", "g2", "g3", "g4", "g5", "g6", "g6"]})
    kept, info = data.prepare(frame)
    # "good film": the first copy stays; "bad film" has two labels: both copies go; "meh" twice
    # in one group: one stays.
    assert kept["text"].tolist() == ["Good film", "fine", "meh"]
    assert info["data_repeated_dropped"] == 2 and info["data_conflicting_dropped"] == 2
    assert info["data_groups"] == 6 and info["data_split_groups"] == 4  # g1+g2, g3+g4, g5, g6


@pytest.mark.parametrize("with_groups", [True, False])
def test_csv_split_keeps_repeated_texts_in_one_split(tmp_path, with_groups):
    """A --data CSV whose sentences repeat across authors (different case and spacing): every
    text lands in one split only, with or without --group-column."""
    rng = np.random.default_rng(3)
    rows = [(f"{rng.choice(GOOD if i % 2 else BAD)} number {i}", "pos" if i % 2 else "neg",
             f"author{i // 2}") for i in range(120)]
    # The same 20 sentences again, by other authors, shouting and with extra spaces.
    rows += [(text.upper().replace(" ", "   "), label, f"other{j}")
             for j, (text, label, _) in enumerate(rows[:20])]
    path = tmp_path / "repeats.csv"
    pd.DataFrame(rows, columns=["review", "stars", "author"]).to_csv(path, index=False)
    frame = data.load_csv(path, "review", "stars", "author" if with_groups else None)
    kept, info = data.prepare(frame)
    assert info["data_repeated_dropped"] == 20 and len(kept) == 120
    parts = data.split(kept, seed=0)
    seen = [same_sentence(t) for p in parts.values() for t in p["text"]]
    assert len(seen) == len(set(seen)) == 120


def test_cap_keeps_every_label(bundled):
    capped = data.cap(bundled, 50, seed=1)
    assert len(capped) == 50 and set(capped["label"]) == {"fresh", "rotten"}
    assert data.cap(bundled, 0, seed=1) is bundled


def test_csv_loader_and_label_map(tmp_path):
    path = tmp_path / "mine.csv"
    frame = sentences(20)
    frame["sentiment"] = frame["sentiment"].replace({"pos": "positive", "neg": "negative"})
    frame.to_csv(path, index=False)
    loaded = data.load_csv(path, "review", "sentiment")
    assert list(loaded.columns) == ["text", "label", "group"]
    assert loaded["group"].nunique() == len(loaded)  # no group column: every row its own group
    labels = data.LabelMap(loaded["label"])
    assert labels.names == ["negative", "positive"]
    assert labels.encode(["positive", "negative"]).tolist() == [1, 0]
    assert labels.decode([0, 1]) == ["negative", "positive"]
    with pytest.raises(UserError, match="'neutral' that the model does not know"):
        labels.encode(["neutral"])
    parts = data.split(loaded, seed=0)
    assert all(set(p["label"]) == {"negative", "positive"} for p in parts.values())


@pytest.mark.parametrize("rows, kwargs, message", [
    ({"text": ["a", "b"], "label": ["x", "y"]}, {"label_column": "stars"}, "no column 'stars'"),
    ({"text": ["a", "b", "c"], "label": ["x", "x", "x"]}, {}, "a classifier needs at least two"),
    ({"text": ["a", " ", "c"], "label": ["x", "y", "x"]}, {}, "1 empty text(s)"),
    ({"text": ["a", "b", "c"], "label": ["x", "", "y"]}, {}, "without a label"),
])
def test_csv_loader_errors(tmp_path, rows, kwargs, message):
    path = tmp_path / "bad.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        data.load_csv(path, **kwargs)


def test_too_small_to_split():
    frame = pd.DataFrame({"text": list("abcdefgh"), "label": ["x", "y"] * 4, "group": list("abcdefgh")})
    with pytest.raises(UserError, match="too few examples to split"):
        data.split(frame)


@pytest.fixture(scope="module")
def tiny_splits():
    frame = sentences(30).rename(columns={"review": "text", "sentiment": "label"})
    frame["group"] = np.arange(len(frame)).astype(str)
    parts = data.split(frame, seed=0)
    labels = data.LabelMap(parts["train"]["label"])
    texts = {name: p["text"].tolist() for name, p in parts.items()}
    y = {name: labels.encode(p["label"]) for name, p in parts.items()}
    return texts, y, labels.names


@pytest.fixture
def baselines(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "LLMind"))
    return load_stage_config(ROOT / "LLMind" / "baselines.py")


def test_tfidf_baseline_on_a_tiny_set(tiny_splits, baselines):
    result, predicted = baselines.tfidf_logreg(*tiny_splits)
    texts, y, _ = tiny_splits
    assert result["test_accuracy"] == 1.0 and result["test_macro_f1"] == 1.0
    assert predicted.tolist() == y["test"].tolist()  # the predictions behind that accuracy
    assert np.asarray(result["test_confusion"]).sum() == len(texts["test"])
    assert result["C"] in result["C_grid"] and set(baselines.C_GRID) <= set(result["C_grid"])


def fake_score(peak: float):
    """A validation score that falls off on both sides of C = peak, and counts its calls."""
    calls = []

    def score(c):
        calls.append(c)
        return -abs(np.log(c) - np.log(peak)), None
    return score, calls


def test_choose_c_extends_the_grid_past_an_edge(baselines):
    step, top = baselines.C_STEP, baselines.C_GRID[-1]
    score, calls = fake_score(top * step**2)  # two steps beyond the grid's top
    best, _, grid = baselines.choose_c(score)
    assert best == top * step**2 and grid[-1] == top * step**3  # inside: one more step above
    assert len(calls) == len(baselines.C_GRID) + 3
    score, _ = fake_score(baselines.C_GRID[0] / step)
    best, _, grid = baselines.choose_c(score)
    assert best == baselines.C_GRID[0] / step and grid[0] == best / step
    score, _ = fake_score(baselines.C_GRID[3])  # inside already: nothing added
    assert baselines.choose_c(score)[2] == list(baselines.C_GRID)


def test_choose_c_stops_at_its_limits_and_breaks_ties_to_the_smaller_c(baselines):
    score, _ = fake_score(baselines.C_LIMITS[1] * 100)
    best, _, grid = baselines.choose_c(score)
    assert best == grid[-1] == baselines.C_LIMITS[1]
    best, _, grid = baselines.choose_c(lambda c: (0.5, None))  # every C alike: the strongest penalty
    assert best == grid[0] == baselines.C_LIMITS[0]


@pytest.mark.slow
def test_tfidf_c_on_the_bundled_data_is_inside_its_grid(bundled, baselines):
    """Issue 16: the chosen C must not sit at the grid's edge (it did: 16 of 0.25..16)."""
    parts = data.split(bundled, seed=42)
    labels = data.LabelMap(parts["train"]["label"])
    texts = {name: p["text"].tolist() for name, p in parts.items()}
    y = {name: labels.encode(p["label"]) for name, p in parts.items()}
    result, _ = baselines.tfidf_logreg(texts, y, labels.names)
    assert not result["C_at_edge"]
    assert result["C_grid"][0] < result["C"] < result["C_grid"][-1]


def test_frozen_encoder_baseline_on_a_tiny_set(tiny_splits, baselines):
    result, predicted = baselines.frozen_encoder_logreg(*tiny_splits, model="bundled", max_length=32)
    # Obvious sentiment words: pretrained sentence embeddings separate them with a linear model.
    assert result["test_accuracy"] >= 0.9
    assert (predicted == tiny_splits[1]["test"]).mean() == result["test_accuracy"]
    assert result["features"] == 384
    assert set(result["test_report"]) >= {"neg", "pos", "macro avg"}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("llmind")
    # The default trains every layer; freezing the lower four is exercised here.
    proc = run_script(TRAIN, "--smoke", "--out-dir", out, "--freeze-layers", "4")
    return out / "smoke", proc


@pytest.mark.slow
def test_smoke_fine_tune_writes_every_artifact(smoke_run, bundled):
    run, proc = smoke_run
    for name in ("config.json", "metrics.json", "history.json", "confusion.png", "validation.png",
                 "predictions.csv", "model/config.json", "model/model.safetensors",
                 "model/tokenizer.json"):
        assert (run / name).is_file(), name
    assert not list((run / "model").glob("*.bin"))  # weights in safetensors only
    m = read_json(run / "metrics.json")
    assert m["labels"] == ["fresh", "rotten"] and m["train_sentences"] == 96
    assert m["test_sentences"] == 64 and m["epochs_run"] == 1
    assert m["train_seconds"] > 0 and 0 < m["params_trained"] < m["params"]
    assert set(m["baselines"]) == {"tfidf_logreg", "frozen_encoder_logreg", "tfidf_logreg_full_train"}
    assert set(m["test_report"]) >= {"fresh", "rotten", "macro avg"}
    assert np.asarray(m["test_confusion"]).sum() == 64
    assert m["data_repeated_dropped"] == len(bundled) - bundled["text"].map(same_sentence).nunique()
    assert "fine-tuned: test accuracy" in proc.stdout
    assert list((run / "checkpoints").glob("checkpoint-*"))  # what --resume continues from
    # Live curves: the Trainer's TensorBoard logger, in <run>/tensorboard/ (6 steps of 16)
    curves = scalars(run)
    assert {"train/loss", "train/learning_rate", "eval/loss", "eval/macro_f1"} <= set(curves)
    assert [step for step, _ in curves["train/loss"]] == list(range(1, 7))
    assert [step for step, _ in curves["eval/macro_f1"]] == [6]


@pytest.mark.slow
def test_predictions_csv_reproduces_the_metrics(smoke_run):
    """Every accuracy, confusion matrix and McNemar count in metrics.json, recomputed from the
    per-sentence predictions; the test sentences are the capped test split, in its order."""
    run, _ = smoke_run
    m = read_json(run / "metrics.json")
    table = pd.read_csv(run / "predictions.csv", keep_default_na=False)
    assert len(table) == 64 and list(table.columns[:3]) == ["text", "label", "finetuned"]
    expected = data.cap(data.split(data.load_bundled(), seed=42)["test"], 64, seed=42)
    assert table["text"].tolist() == expected["text"].tolist()
    assert table["label"].tolist() == expected["label"].tolist()
    results = {"finetuned": m, **m["baselines"]}
    assert set(table.columns[2:]) == set(results)
    right = {name: table[name] == table["label"] for name in results}
    for name, r in results.items():
        assert right[name].mean() == pytest.approx(r["test_accuracy"]), name
        confusion = pd.crosstab(table["label"], table[name]).reindex(
            index=m["labels"], columns=m["labels"], fill_value=0)
        assert confusion.to_numpy().tolist() == r["test_confusion"], name
        low, high = r["test_accuracy_ci95"]
        assert low <= r["test_accuracy"] <= high and low < high
    for name, c in m["comparisons"].items():
        assert c["reference_only_correct"] == (right["finetuned"] & ~right[name]).sum()
        assert c["baseline_only_correct"] == (~right["finetuned"] & right[name]).sum()
        assert c["accuracy_difference"] == pytest.approx(right["finetuned"].mean() - right[name].mean())
        assert c["mcnemar_p"] <= c["mcnemar_p_holm"] <= 1
    assert m["significance"]["resamples"] == 2000 and m["significance"]["alpha"] == 0.05


@pytest.mark.slow
def test_predict_loads_the_smoke_model(smoke_run, tmp_path):
    run, _ = smoke_run
    proc = run_script(PREDICT, "--model-dir", run / "model", "A gorgeous, heartfelt film.",
                      "Two hours I will never get back.")
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        label, probability, _ = line.split("\t")
        assert label in {"fresh", "rotten"} and 0.5 <= float(probability) <= 1
    csv = tmp_path / "labelled.csv"
    pd.DataFrame({"text": ["great", "awful"], "label": ["fresh", "meh"]}).to_csv(csv, index=False)
    assert_user_error(PREDICT, "--model-dir", run / "model", "--file", csv, "--label-column", "label",
                      fragments=("'meh' that the model does not know",))


class WritesAFile:
    """Unpickling this would create `marker`: what a crafted pytorch_model.bin can do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.slow
def test_a_folder_with_only_a_bin_file_is_refused_unopened(smoke_run, tmp_path, monkeypatch):
    import torch

    run, _ = smoke_run
    folder = tmp_path / "old-model"
    shutil.copytree(run / "model", folder)
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "code-ran"
    torch.save({"weights": WritesAFile(marker)}, folder / "pytorch_model.bin")
    assert_user_error(PREDICT, "--model-dir", folder, "some sentence",
                      fragments=("no model.safetensors",))
    monkeypatch.syspath_prepend(str(ROOT / "LLMind"))
    pretrained = load_stage_config(ROOT / "LLMind" / "pretrained.py")
    with pytest.raises(UserError, match="no .safetensors weights"):
        pretrained.load(str(folder), "classifier", num_labels=2)
    assert not marker.exists()


@pytest.mark.slow
def test_bad_inputs_are_one_line_errors(tmp_path, smoke_run):
    missing = tmp_path / "missing.csv"
    pd.DataFrame({"review": ["a"] * 40, "label": ["x", "y"] * 20}).to_csv(missing, index=False)
    assert_user_error(TRAIN, "--smoke", "--out-dir", tmp_path, "--data", missing,
                      fragments=("no column 'text'", "--text-column"))
    assert_user_error(TRAIN, "--smoke", "--out-dir", tmp_path, "--model", tmp_path,
                      fragments=("is not a model folder",))
    # A subprocess (run_main's one line and exit status 2): it also reads the HF_HUB_OFFLINE set
    # above, which huggingface_hub in this process read when first imported, maybe before.
    proc = run_script(TRAIN, "--smoke", "--out-dir", tmp_path, "--model", "nobody/no-such-model",
                      check=False)
    assert_one_line_error(proc, "Hugging Face hub", "--model bundled")
    proc = run_script(PREDICT, "--model-dir", tmp_path, "some sentence", check=False)
    assert_one_line_error(proc, "is not a model folder")
    model_dir = smoke_run[0] / "model"
    assert_user_error(PREDICT, "--model-dir", model_dir, "--file", missing, "--label-column",
                      "label", fragments=("--file", "no column 'text'"))
    assert_user_error(TRAIN, "--smoke", "--out-dir", tmp_path, "--run-name", "fresh", "--resume",
                      fragments=("no checkpoint",))


@pytest.mark.slow
def test_resume_continues_from_the_last_checkpoint(smoke_run, tmp_path):
    """One smoke epoch, then --resume with --epochs 2: the Trainer picks up at the saved step
    (not from scratch), and the speed counts only the epoch this invocation trained."""
    run, _ = smoke_run
    shutil.copytree(run, tmp_path / "smoke")
    shutil.rmtree(tmp_path / "smoke" / "tensorboard")
    first = read_json(run / "metrics.json")
    proc = run_script(TRAIN, "--smoke", "--out-dir", tmp_path, "--resume", "--epochs", "2",
                      "--freeze-layers", "4", "--no-tensorboard")
    assert not (tmp_path / "smoke" / "tensorboard").exists()  # --no-tensorboard: no curves
    m = read_json(tmp_path / "smoke" / "metrics.json")
    assert m["resumed"] and m["epochs_run"] == 2
    evals = [e["epoch"] for e in read_json(tmp_path / "smoke" / "history.json")["log"]
             if "eval_macro_f1" in e]
    assert evals == [1, 2]  # epoch 1 comes from the checkpoint's log, epoch 2 is new
    assert m["train_sentences_per_second"] == pytest.approx(96 / m["train_seconds"], rel=1e-6)
    steps = sorted(int(p.name.split("-")[1]) for p in (tmp_path / "smoke" / "checkpoints").glob("c*"))
    assert steps[-1] == 2 * 6 and first["epochs_run"] == 1  # 96 sentences / 16 a batch = 6 steps
    assert "fine-tuned: test accuracy" in proc.stdout


def test_tokenizer_quest_coverage_numbers(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "LLMind"))
    quest = load_stage_config(ROOT / "LLMind" / "tokenizer_quest.py")
    tokenizer = quest.train_wordpiece(["the film is good", "the film is bad"] * 20, vocab_size=60)
    assert tokenizer.encode("the film", add_special_tokens=False).tokens == ["the", "film"]
    splits = {"good": ["good"], "goodness": ["good", "##ness"], "zzz": ["[UNK]"]}
    c = quest.coverage(["good", "good", "goodness", "zzz"], splits.__getitem__)
    assert c["whole_word_share_running"] == 0.5  # good, good of 4 running words
    assert c["whole_word_share_distinct"] == pytest.approx(1 / 3)
    assert c["pieces_per_word"] == 5 / 4 and c["unknown_per_word"] == 1 / 4


STAGE_MODULES = ("train", "tune", "config", "data", "baselines", "plots", "pretrained", "significance")


@pytest.mark.slow
def test_tuning_never_scores_the_test_split(tmp_path, monkeypatch):
    """tune.py runs each candidate with --no-score-test --no-baselines: the Trainer's predict
    (the only way the test split is scored) must never run; the summary names the default."""
    import transformers

    def no_test(*args, **kwargs):
        raise AssertionError("tuning scored a split with Trainer.predict")

    monkeypatch.setattr(transformers.Trainer, "predict", no_test)
    monkeypatch.syspath_prepend(str(ROOT / "LLMind"))
    for name in STAGE_MODULES:  # this stage's modules, not another stage's of the same name
        monkeypatch.delitem(sys.modules, name, raising=False)
    tune = load_stage_config(ROOT / "LLMind" / "tune.py")
    result = tune.main(["--smoke", "--out-dir", str(tmp_path), "--candidates",
                        "capped-frozen-4,full-3-epochs"])
    assert result["order"] == ["capped-frozen-4", "full-3-epochs"]
    assert result["default"] == "full-3-epochs"  # config.py: every sentence, 0 frozen, 3 epochs
    capped = result["candidates"]["capped-frozen-4"]
    assert capped["settings"] == {"epochs": 2, "freeze_layers": 4, "max_train_samples": 5000}
    assert capped["train_sentences"] == 32 and capped["params_trained"] < \
        result["candidates"]["full-3-epochs"]["params_trained"]
    assert all(len(r["val_macro_f1_by_epoch"]) == 1 for r in result["candidates"].values())
    assert not any(key.startswith("test") for r in result["candidates"].values() for key in r)
    # The candidates' scratch runs (models, checkpoints) are gone; only the summary stays.
    assert [p.name for p in (tmp_path / "tuning").iterdir()] == ["metrics.json"]
    assert read_json(tmp_path / "tuning" / "metrics.json")["best"] in result["order"]


def test_tune_rejects_an_unknown_candidate():
    proc = run_script("LLMind/tune.py", "--candidates", "bigger", check=False)
    assert_one_line_error(proc, "--candidates bigger", "full-3-epochs")


@pytest.mark.slow
def test_report_renders_intervals_mcnemar_and_c(smoke_run):
    run, _ = smoke_run
    report = load_stage_config(ROOT / "LLMind" / "report.py")
    m = {**read_json(run / "metrics.json"), "freeze_layers": 4}
    tests = report.significance_section(m)
    text = report.results_table(m) + report.summary(m) + tests
    low, high = m["test_accuracy_ci95"]
    assert f"{m['test_accuracy']:.1%} [{100 * low:.1f}%, {100 * high:.1f}%]" in text
    assert "top 2 of 6 layers" in text
    assert f"{m['data_repeated_dropped']} repeated copies" in text
    for name, c in m["comparisons"].items():
        row = next(line for line in tests.splitlines() if line.startswith(f"| {report.BASELINES[name]} |"))
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1:3] == [str(c["reference_only_correct"]), str(c["baseline_only_correct"])]
        assert cells[4:6] == [f"{c['mcnemar_p']:.2g}", f"{c['mcnemar_p_holm']:.2g}"]
        assert (cells[6] == "no significant difference") == (not c["significant"])
    assert "Holm correction across these 3 tests" in text
    old = {k: v for k, v in m.items() if k not in ("comparisons", "significance")}
    assert report.significance_section(old) is None  # older metrics: the section is left out


def test_report_tuning_section_by_hand():
    report = load_stage_config(ROOT / "LLMind" / "report.py")

    def candidate(f1, freeze, epochs, by_epoch):
        return {"description": "d", "settings": {"freeze_layers": freeze, "epochs": epochs,
                                                 "max_train_samples": None},
                "train_sentences": 100, "validation_sentences": 50, "val_accuracy": f1,
                "val_macro_f1": f1, "val_macro_f1_by_epoch": by_epoch, "best_epoch": len(by_epoch),
                "epochs_run": len(by_epoch), "train_seconds": 10.0}

    t = {"order": ["a", "b"], "best": "a", "default": "b", "seed": 42, "smoke": False,
         "candidates": {"a": candidate(0.84, 3, 1, [0.84]), "b": candidate(0.83, 0, 2, [0.80, 0.83])}}
    text = report.tuning_section(t)
    assert "Highest validation macro-F1: `a` (0.840)" in text
    assert "config.py's default, `b`, scored 0.830, 0.010 below it." in text
    assert "| `b` (default) | d | 100 | all 6 | 2 | 83.0% | 0.830 | 0.800, 0.830 | 10 |" in text
    assert "The default's best validation epoch was its last (2)." in text
    assert "Not measured yet" in report.tuning_section(None)


def test_readme_results_match_the_reference_run():
    report = load_stage_config(ROOT / "LLMind" / "report.py")
    assert report.main(["--check"]) == 0


@pytest.mark.slow
def test_grad_accum_logs_the_same_loss_scale(smoke_run, tmp_path):
    # The classifier's loss is a per-sentence mean. Were the Trainer to skip dividing it by
    # --grad-accum (it does for any model whose forward takes **kwargs), the loss it logs and the
    # gradients it clips would both come out twice as large with --grad-accum 2.
    run_script(TRAIN, "--smoke", "--out-dir", tmp_path, "--freeze-layers", "4", "--grad-accum", "2")

    def first_loss(folder):
        log = read_json(folder / "history.json")["log"]
        return next(e["loss"] for e in log if "loss" in e)

    ratio = first_loss(tmp_path / "smoke") / first_loss(smoke_run[0])
    assert 0.7 < ratio < 1.4, ratio
