"""LLMind's --init random, the control that isolates what pretraining buys: the same architecture
from random weights, the same recipe in config.json, the one-line refusal to freeze random
layers, and report.py's section built from both runs (the numbers, the paired tests, the
conclusion, a stale section caught by --check, a missing run left as a note)."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_user_error, read_json, run_script

from shared.runtime.errors import UserError

from tools.loader import load_stage_config

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
TRAIN = "LLMind/train.py"
LABELS = {"num_labels": 2, "id2label": {0: "fresh", 1: "rotten"}, "label2id": {"fresh": 0, "rotten": 1}}
# Keys of a model's config that say how it was loaded, not what it is.
NOT_ARCHITECTURE = {"dtype", "torch_dtype", "_name_or_path", "transformers_version"}
EMBEDDINGS = "bert.embeddings.word_embeddings.weight"


@pytest.fixture(scope="module")
def report():
    return load_stage_config(ROOT / "LLMind" / "report.py")


def test_random_init_is_the_same_architecture_with_other_weights():
    pretrained = load_stage_config(ROOT / "LLMind" / "pretrained.py")
    trained = pretrained.classifier("bundled", "pretrained", 42, **LABELS)
    fresh = pretrained.classifier("bundled", "random", 42, **LABELS)
    same = {k: v for k, v in trained.config.to_dict().items() if k not in NOT_ARCHITECTURE}
    assert same == {k: v for k, v in fresh.config.to_dict().items() if k not in NOT_ARCHITECTURE}
    assert same["num_hidden_layers"] == 6 and same["id2label"] == {0: "fresh", 1: "rotten"}
    a, b = trained.state_dict(), fresh.state_dict()
    assert list(a) == list(b) and all(a[k].shape == b[k].shape for k in a)
    # The pretrained path really reads the checkpoint: its encoder weights are the encoder's.
    encoder = pretrained.load("bundled", "encoder")
    checkpoint = encoder.state_dict()["embeddings.word_embeddings.weight"]
    assert np.array_equal(a[EMBEDDINGS].numpy(), checkpoint.numpy())
    # The random path does not: every encoder weight matrix differs from the checkpoint's, and
    # is drawn as BERT draws a new model's (normal, std initializer_range).
    for name in (EMBEDDINGS, "bert.encoder.layer.5.attention.self.query.weight"):
        assert not np.allclose(a[name].numpy(), b[name].numpy())
        assert b[name].std().item() == pytest.approx(fresh.config.initializer_range, rel=0.05)
    assert a[EMBEDDINGS].std().item() > 2 * fresh.config.initializer_range  # pretrained ones spread wider
    # The random weights follow --seed alone.
    again = pretrained.classifier("bundled", "random", 42, **LABELS).state_dict()[EMBEDDINGS]
    other = pretrained.classifier("bundled", "random", 7, **LABELS).state_dict()[EMBEDDINGS]
    assert np.array_equal(again.numpy(), b[EMBEDDINGS].numpy())
    assert not np.allclose(other.numpy(), b[EMBEDDINGS].numpy())


@pytest.fixture(scope="module")
def smoke_pair(tmp_path_factory):
    out = tmp_path_factory.mktemp("llmind-init")
    run_script(TRAIN, "--smoke", "--out-dir", out, "--run-name", "pretrained")
    proc = run_script(TRAIN, "--smoke", "--out-dir", out, "--run-name", "random", "--init", "random")
    return out / "pretrained", out / "random", proc


@pytest.mark.slow
def test_random_smoke_run_keeps_the_recipe(smoke_pair):
    pre, rnd, proc = smoke_pair
    a, b = read_json(pre / "config.json"), read_json(rnd / "config.json")
    assert (a["init"], b["init"]) == ("pretrained", "random")
    assert {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)} == {"init", "run_name"}
    assert "random weights" in proc.stdout
    m_pre, m_rnd = read_json(pre / "metrics.json"), read_json(rnd / "metrics.json")
    assert (m_pre["init"], m_rnd["init"]) == ("pretrained", "random")
    assert m_rnd["params"] == m_rnd["params_trained"] == m_pre["params"]
    # TF-IDF is refitted on the same split (the same predictions: a check); the frozen-encoder
    # baseline, which reads the pretrained weights, only in the pretrained run.
    assert "tfidf_logreg" in m_rnd["baselines"]
    assert set(m_pre["baselines"]) - set(m_rnd["baselines"]) == {"frozen_encoder_logreg"}
    p_pre, p_rnd = pd.read_csv(pre / "predictions.csv"), pd.read_csv(rnd / "predictions.csv")
    assert p_pre["text"].tolist() == p_rnd["text"].tolist()
    assert p_pre["tfidf_logreg"].tolist() == p_rnd["tfidf_logreg"].tolist()


@pytest.mark.slow
def test_report_section_from_the_two_smoke_runs(smoke_pair, report, monkeypatch):
    pre, rnd, _ = smoke_pair
    monkeypatch.setattr(report, "RUN", pre)
    monkeypatch.setattr(report, "RANDOM", rnd)
    text = report.init_section()
    m = read_json(rnd / "metrics.json")
    low, high = m["test_accuracy_ci95"]
    row = f"| fine-tuned MiniLM architecture, **random weights** | {m['test_accuracy']:.1%} " \
          f"[{100 * low:.1f}%, {100 * high:.1f}%] | {m['test_macro_f1']:.3f} |"
    assert row in text
    assert "equal in every setting but `--init`" in text
    assert "predicted every test sentence as the reference run's TF-IDF did" in text
    assert "A smoke run is among these" in text


def test_freezing_random_layers_is_a_one_line_error(tmp_path):
    # in this process: test_llmind checks train.py's one-line printing as a subprocess
    assert_user_error(TRAIN, "--smoke", "--init", "random", "--freeze-layers", "2", "--out-dir", tmp_path,
                      fragments=("--freeze-layers 2", "--init random", "--freeze-layers 0"))
    assert not any(tmp_path.iterdir())  # refused before anything was written


def metrics(accuracy: float, seconds: float, best: float | None = None, ci=None, **more) -> dict:
    m = {"test_accuracy": accuracy, "test_macro_f1": accuracy - 0.01, "train_seconds": seconds,
         "test_accuracy_ci95": ci or [accuracy - 0.02, accuracy + 0.02], "train_sentences": 8928,
         "test_sentences": 200, "params": 22713986, **more}
    if best is not None:
        m.update(best_epoch=best, epochs_run=3.0, epochs=3)
    return m


def fake_runs(rnd_accuracy: float, rnd_correct: int, lr_random: float = 1e-4):
    """200 sentences, all 'fresh': the pretrained model is right on the first 180, the random one
    on the first `rnd_correct`, TF-IDF on the first 150."""
    n = 200
    right = {"pretrained": 180, "random": rnd_correct, "tfidf": 150}
    pairs = pd.DataFrame({"text": [f"s{i}" for i in range(n)], "label": ["fresh"] * n,
                          **{k: ["fresh"] * c + ["rotten"] * (n - c) for k, c in right.items()}})
    config = {"seed": 42, "epochs": 3, "patience": 2, "lr": 1e-4, "warmup": 0.1, "batch_size": 32,
              "weight_decay": 0.01, "max_length": 64, "freeze_layers": 0}
    pre = metrics(0.9, 405.0, best=2.0,
                  baselines={"tfidf_logreg": metrics(0.75, 1.2, ci=[0.69, 0.81])})
    rnd = metrics(rnd_accuracy, 733.4, best=3.0)
    return (pre, rnd, {**config, "run_name": "reference-minilm", "init": "pretrained"},
            {**config, "run_name": "reference-minilm-random", "init": "random", "lr": lr_random}, pairs)


def cells(text: str, start: str) -> list[str]:
    row = next(line for line in text.splitlines() if line.startswith(start))
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_report_section_reads_the_metrics_and_tests_by_hand(report):
    pre, rnd, pre_config, rnd_config, pairs = fake_runs(0.6, 120)
    tests = report.init_tests(pairs, seed=0, resamples=200)
    text = report.pretraining_section(pre, rnd, pre_config, rnd_config, tests, tfidf_check=0)
    assert cells(text, "| **fine-tuned MiniLM, pretrained")[1:] == [
        "90.0% [88.0%, 92.0%]", "0.890", "405", "2 of 3"]
    assert cells(text, "| fine-tuned MiniLM architecture")[1:] == [
        "60.0% [58.0%, 62.0%]", "0.590", "733", "3 of 3"]
    assert cells(text, "| TF-IDF + logistic regression")[1:] == ["75.0% [69.0%, 81.0%]", "0.740", "1", "-"]
    # Nested right answers: pretrained vs random disagree on 60 sentences, all the pretrained's.
    row = cells(text, "| pretrained fine-tune vs random-init fine-tune")
    assert row[1:3] == ["60", "0"] and row[3].startswith("+30.0 [")
    p = 2 * 0.5**60
    assert row[4] == f"{p:.2g}" and row[5] == f"{3 * p:.2g}"  # the smallest of 3: times 3
    assert row[6] == "pretrained fine-tune better"
    row = cells(text, "| random-init fine-tune vs TF-IDF + LR")
    assert row[1:3] == ["0", "30"] and row[6] == "TF-IDF + LR better"
    assert "does **worse than TF-IDF + logistic regression** (-15.0 points" in text
    assert "Pretraining buys +30.0 points of test accuracy" in text
    assert "lead over TF-IDF (+15.0 points) is what its pretrained weights bring" in text
    assert "equal in every setting but `--init`" in text and "Holm's correction across these 3 tests" in text


def test_report_conclusion_follows_the_numbers(report):
    # Random init 2 sentences behind TF-IDF: no significant difference, said as "no better".
    pre, rnd, pre_config, rnd_config, pairs = fake_runs(0.74, 148)
    text = report.pretraining_section(pre, rnd, pre_config, rnd_config,
                                      report.init_tests(pairs, seed=0, resamples=200), tfidf_check=0)
    assert "does **no better than TF-IDF + logistic regression** (-1.0 points" in text
    assert "worse than TF-IDF" not in text
    # Random init ahead of TF-IDF: part of the lead is the architecture's.
    pre, rnd, pre_config, rnd_config, pairs = fake_runs(0.85, 170)
    text = report.pretraining_section(pre, rnd, pre_config, rnd_config,
                                      report.init_tests(pairs, seed=0, resamples=200), tfidf_check=3)
    assert "still beats TF-IDF + logistic regression (+10.0 points" in text and "about 67%" in text
    assert "disagrees with the reference run's on 3 test sentences" in text
    # A second difference between the recipes is called out, not hidden.
    pre, rnd, pre_config, rnd_config, pairs = fake_runs(0.6, 120, lr_random=1e-3)
    text = report.pretraining_section(pre, rnd, pre_config, rnd_config,
                                      report.init_tests(pairs, seed=0, resamples=200), tfidf_check=0)
    assert "**The two runs also differ in lr, so this is not a one-factor control**" in text


def test_predictions_pair_by_sentence(report):
    pre = pd.DataFrame({"text": ["a", "b", "c"], "label": ["x", "y", "x"], "finetuned": ["x", "y", "y"],
                        "tfidf_logreg": ["x", "x", "x"]})
    rnd = pd.DataFrame({"text": ["c", "a", "b"], "label": ["x", "x", "y"], "finetuned": ["x", "y", "y"],
                        "tfidf_logreg": ["x", "x", "x"]})
    pairs = report.paired_predictions(pre, rnd).set_index("text")
    assert pairs.loc["c", "pretrained"] == "y" and pairs.loc["c", "random"] == "x"
    assert pairs.loc["a", "random"] == "y" and (pairs["tfidf"] == pairs["tfidf_random"]).all()
    with pytest.raises(UserError, match="different test sentences"):
        report.paired_predictions(pre, rnd.replace({"text": {"c": "d"}}))


def test_report_without_the_random_run_and_with_a_stale_section(report, monkeypatch, tmp_path):
    monkeypatch.setattr(report, "RANDOM", tmp_path / "absent")
    assert report.init_section().startswith("Not measured yet: run `python train.py --init random")
    monkeypatch.undo()
    if not (report.RANDOM / "metrics.json").is_file():
        pytest.skip("no reference-minilm-random run to compare the README with")
    readme = tmp_path / "README.md"
    shutil.copy(report.README, readme)
    text = readme.read_text(encoding="utf-8")
    body = text.split("<!-- begin: pretraining-encoder -->")[1].split("<!-- end: pretraining-encoder -->")[0]
    readme.write_text(text.replace(body, body.replace("Pretraining buys", "Pretraining bought")),
                      encoding="utf-8")
    monkeypatch.setattr(report, "README", readme)
    monkeypatch.setattr(report, "CURVES", tmp_path / "curves.png")
    assert report.main(["--check"]) == 1
    assert not (tmp_path / "curves.png").exists()  # --check writes nothing
    assert report.main([]) == 0 and report.main(["--check"]) == 0
    assert "Pretraining buys" in readme.read_text(encoding="utf-8")
    assert (tmp_path / "curves.png").stat().st_size > 0
