"""Write the generated sections of LLMind/README.md from the committed reference runs.

    python LLMind/report.py           # after `make bench` (or the train/tune commands below)
    python LLMind/report.py --check   # exit 1 if the README is out of date (used by tests)

Sections: results (results/reference-minilm: `python LLMind/train.py --run-name
reference-minilm`), tuning (results/reference-tuning: `python LLMind/tune.py --run-name
reference-tuning`), tokenizers (results/reference-tokenizers) and pretraining-encoder (the
reference run beside results/reference-minilm-random: `python LLMind/train.py --init random
--run-name reference-minilm-random`, paired by test sentence; also draws that folder's
pretrained_vs_random.png). A metrics file written before the split de-duplication, the intervals
and McNemar's tests existed renders without them, with a one-line note to run `make bench`; a
missing random-init run leaves its section saying how to make it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from shared.runtime import files
from shared.runtime.errors import UserError

from tools import reporting
from tools.loader import load_stage_config

STAGE_DIR = Path(__file__).resolve().parent

RUN = STAGE_DIR / "results" / "reference-minilm"
TUNING = STAGE_DIR / "results" / "reference-tuning" / "metrics.json"
TOKENIZERS = STAGE_DIR / "results" / "reference-tokenizers" / "metrics.json"
RANDOM = STAGE_DIR / "results" / "reference-minilm-random"
CURVES = RANDOM / "pretrained_vs_random.png"
README = STAGE_DIR / "README.md"
# Loaded by path: tests import this file without the stage folder on sys.path.
significance = load_stage_config(STAGE_DIR / "significance.py")
BASELINES = {"tfidf_logreg": "TF-IDF + logistic regression",
             "frozen_encoder_logreg": "frozen MiniLM, mean-pooled + logistic regression",
             "tfidf_logreg_full_train": "TF-IDF + logistic regression, whole training split"}
STALE = "note: {what} missing from {path} (written by older code); run `make bench` to regenerate it"


def pct(x: float) -> str:
    return f"{x:.1%}"


def interval(ci: list[float] | None, scale: float = 100, unit: str = "") -> str:
    return f" [{scale * ci[0]:.1f}{unit}, {scale * ci[1]:.1f}{unit}]" if ci else ""


def results_table(m: dict) -> str:
    n, full = m["train_sentences"], m.get("full_train_sentences", m["train_sentences"])
    trained = "all 6" if not m["freeze_layers"] else f"top {6 - m['freeze_layers']} of 6"
    rows = [[f"**fine-tuned MiniLM** ({trained} layers + head)", f"{n:,}",
             pct(m["test_accuracy"]) + interval(m.get("test_accuracy_ci95"), unit="%"),
             f"{m['test_macro_f1']:.3f}", f"{m['train_seconds']:.0f}", "-"]]
    for key, name in BASELINES.items():
        b = m.get("baselines", {}).get(key)
        if b:
            rows.append([name, f"{full if key.endswith('full_train') else n:,}",
                         pct(b["test_accuracy"]) + interval(b.get("test_accuracy_ci95"), unit="%"),
                         f"{b['test_macro_f1']:.3f}", f"{b['train_seconds']:.0f}", f"{b['C']:g}"])
    accuracy = "test accuracy [95% interval]" if "test_accuracy_ci95" in m else "test accuracy"
    return reporting.markdown_table(
        ["model", "training sentences", accuracy, "test macro-F1", "training seconds",
         "C (chosen on validation)"], rows)


def split_sentence(m: dict) -> str:
    if "data_repeated_dropped" not in m:
        return f"Test split: {m['test_sentences']:,} sentences from movies that appear in no other split"
    linked = m["data_groups"] - m["data_split_groups"]
    return (f"Test split: {m['test_sentences']:,} sentences, none of which (after case and whitespace "
            f"are normalised) occurs in another split, from movies that appear in no other split: "
            f"of the corpus's {m['data_rows']:,} sentences, {m['data_repeated_dropped']} repeated "
            f"copies and {m['data_conflicting_dropped']} with contradictory labels were dropped, and "
            f"{linked} movie name(s) joined another movie's group because they share a sentence "
            f"({m['data_groups']:,} names, {m['data_split_groups']:,} groups)")


def summary(m: dict) -> str:
    tfidf = m["baselines"]["tfidf_logreg"]
    frozen = m["baselines"]["frozen_encoder_logreg"]
    lead = 100 * (m["test_accuracy"] - tfidf["test_accuracy"])
    return (f"{split_sentence(m)}; scored once. Fine-tuning ran {m['epochs_run']:g} epochs in "
            f"{m['train_seconds']:.0f} s on 2 CPU cores ({m['train_sentences_per_second']:.1f} "
            f"training sentences per second, {m['params_trained']:,} of {m['params']:,} parameters "
            f"updated); the best epoch by validation macro-F1 was {m['best_epoch']:g}. It is "
            f"{lead:+.1f} points of accuracy against TF-IDF + logistic regression on the same "
            f"sentences, and {100 * (m['test_accuracy'] - frozen['test_accuracy']):+.1f} against the "
            f"frozen encoder's features." + against_full(m) + c_sentence(m))


def against_full(m: dict) -> str:
    """The stronger baseline: TF-IDF fed every training sentence, which costs it seconds."""
    full = m["baselines"].get("tfidf_logreg_full_train")
    if not full:
        return ""
    lead = 100 * (m["test_accuracy"] - full["test_accuracy"])
    verdict = ("ahead" if lead > 0 else "**behind**") + f" by {abs(lead):.1f} points"
    return (f" TF-IDF is cheap enough to train on the whole training split "
            f"({m.get('full_train_sentences', 0):,} sentences), and against that stronger baseline "
            f"the capped fine-tune is {verdict}.")


def c_sentence(m: dict) -> str:
    """Where each baseline's C lies in the grid it searched (an end would mean the search was
    cut short)."""
    fits = {BASELINES[k]: b for k, b in m["baselines"].items() if "C_grid" in b}
    if not fits:
        return ""
    edge = [name for name, b in fits.items() if b["C_at_edge"]]
    grids = "; ".join(f"{name}: C = {b['C']:g} of {b['C_grid'][0]:g} to {b['C_grid'][-1]:g}"
                      for name, b in fits.items())
    where = (f"{' and '.join(edge)} stopped at an end of the grid (its limit), so a better C may lie "
             "beyond it" if edge else "every chosen C lies inside the grid it searched")
    return (f" Each baseline's C is the one of best validation macro-F1 on a grid of factors of 4, "
            f"extended past an end whenever the best lay there ({grids}): {where}.")


def verdict(c: dict) -> str:
    if not c["significant"]:
        return "no significant difference"
    return "fine-tune better" if c["accuracy_difference"] > 0 else "**baseline better**"


def significance_section(m: dict) -> str | None:
    """McNemar's test of the fine-tune against each baseline, Holm-corrected, with the paired
    bootstrap interval on each accuracy difference."""
    comparisons, method = m.get("comparisons"), m.get("significance")
    if not comparisons or not method:
        return None
    k, alpha = len(comparisons), method["alpha"]
    rows = [[BASELINES.get(name, name), f"{c['reference_only_correct']:,}", f"{c['baseline_only_correct']:,}",
             f"{100 * c['accuracy_difference']:+.1f}" + interval(c["difference_ci95"]),
             f"{c['mcnemar_p']:.2g}", f"{c['mcnemar_p_holm']:.2g}", verdict(c)]
            for name, c in comparisons.items()]
    table = reporting.markdown_table(
        ["fine-tune against", "sentences only the fine-tune gets right", "only the baseline gets right",
         "accuracy difference, points [95% interval]", "McNemar p", "Holm-adjusted p",
         f"verdict at {alpha:g}"], rows)
    return (f"Is the gap more than luck in which sentences the test split drew? On the same "
            f"{m['test_sentences']:,} test sentences: the {method['test']}; the Holm correction across "
            f"these {k} tests (a difference counts as significant when its adjusted p is below "
            f"{alpha:g}, that is when the i-th smallest raw p of {k} is below {alpha:g} / ({k} - i + 1) "
            f"and every smaller one passed too); and a {method['interval']} "
            f"({method['resamples']:,} resamples, seed {method['seed']}) for each interval.\n\n{table}")


def layers(freeze: int) -> str:
    return "all 6" if not freeze else f"top {6 - freeze} of 6"


def tuning_section(t: dict | None) -> str:
    """The candidates' validation numbers and what they say about the default."""
    if t is None:
        return ("Not measured yet: run `python LLMind/tune.py --run-name reference-tuning` (about 13 "
                "minutes on 2 CPU cores), then `python LLMind/report.py`.")
    rows = []
    for name in t["order"]:
        r = t["candidates"][name]
        s = r["settings"]
        rows.append([f"`{name}`" + (" (default)" if name == t["default"] else ""), r["description"],
                     f"{r['train_sentences']:,}", layers(s["freeze_layers"]), f"{s['epochs']:g}",
                     pct(r["val_accuracy"]), f"{r['val_macro_f1']:.3f}",
                     ", ".join(f"{x:.3f}" for x in r["val_macro_f1_by_epoch"]),
                     f"{r['train_seconds']:.0f}"])
    table = reporting.markdown_table(
        ["candidate", "settings", "training sentences", "layers trained", "epochs",
         "val accuracy (best epoch)", "val macro-F1 (best epoch)", "val macro-F1 after each epoch",
         "training seconds"], rows)
    best, default = t["candidates"][t["best"]], t["candidates"].get(t["default"] or "")
    text = [f"Each candidate fine-tuned with seed {t['seed']} and scored on the validation split "
            f"only ({best['validation_sentences']:,} sentences; the test split was not scored). "
            f"Highest validation macro-F1: `{t['best']}` ({best['val_macro_f1']:.3f})."]
    if default is None:
        text.append("None of the candidates is config.py's current default.")
    elif t["default"] == t["best"]:
        text.append("That is config.py's default.")
    elif (gap := best["val_macro_f1"] - default["val_macro_f1"]) < 0.0005:
        text.append(f"config.py's default, `{t['default']}`, scored the same to three decimals.")
    else:
        text.append(f"config.py's default, `{t['default']}`, scored {default['val_macro_f1']:.3f}, "
                    f"{gap:.3f} below it.")
    if default is not None and default["best_epoch"] == default["epochs_run"]:
        text.append(f"The default's best validation epoch was its last ({default['best_epoch']:g}).")
    if t.get("smoke"):
        text.append("**This is a smoke run on a tiny subset: its numbers say nothing.**")
    return table + "\n\n" + " ".join(text)


def tokenizer_section(t: dict) -> str:
    """Coverage of both vocabularies on the validation words, and how they cut a few sentences."""
    rows = []
    for key, name in (("trained", f"WordPiece trained here ({t['vocab_size_trained']:,} pieces)"),
                      ("pretrained", f"MiniLM's pretrained ({t['vocab_size_pretrained']:,} pieces)")):
        c = t[key]
        rows.append([name, f"{c['whole_word_share_running']:.1%}", f"{c['whole_word_share_distinct']:.1%}",
                     f"{c['pieces_per_word']:.2f}", f"{c['unknown_per_word']:.2%}"])
    table = reporting.markdown_table(["tokenizer", "running words kept whole",
                                      "distinct words kept whole", "pieces per word",
                                      "unknown pieces per word"], rows)
    examples = "\n".join(f"- {e['text']}\n  - trained here: `{' '.join(e['trained'])}`\n"
                         f"  - pretrained: `{' '.join(e['pretrained'])}`" for e in t["examples"])
    return (f"On the {t['validation_words']:,} running words ({t['validation_distinct_words']:,} "
            f"distinct) of the validation sentences:\n\n{table}\n\nHow each cuts the first "
            f"validation sentences (`##` marks a piece that continues a word):\n\n{examples}")

# The three rows of "what pretraining buys", and the pairs tested on them (first minus second).
INIT_ROWS = {"pretrained": "**fine-tuned MiniLM, pretrained weights**",
             "random": "fine-tuned MiniLM architecture, **random weights**",
             "tfidf": "TF-IDF + logistic regression"}
INIT_PAIRS = (("pretrained", "random"), ("random", "tfidf"), ("pretrained", "tfidf"))
SHORT = {"pretrained": "pretrained fine-tune", "random": "random-init fine-tune", "tfidf": "TF-IDF + LR"}
# Settings allowed to differ between the two runs' config.json: the factor under test and names.
NOT_RECIPE = ("init", "run_name", "out_dir")


def read_predictions(path: Path) -> pd.DataFrame:
    # As strings: a label "1" or a sentence "NA" must compare as written.
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def paired_predictions(pretrained: pd.DataFrame, random: pd.DataFrame) -> pd.DataFrame:
    """Both runs' test predictions on the same sentences, paired by the sentence itself:
    text, label, pretrained, random, tfidf (the pretrained run's) and tfidf_random (the random
    run's own refit, when it has one: on the same split it must agree)."""
    a = pretrained.rename(columns={"finetuned": "pretrained", "tfidf_logreg": "tfidf"})
    b = random.rename(columns={"finetuned": "random", "tfidf_logreg": "tfidf_random",
                               "label": "label_random"})
    if len(a) != len(b) or set(a["text"]) != set(b["text"]) or a["text"].duplicated().any():
        raise UserError(f"the two runs scored different test sentences ({len(a):,} and {len(b):,}); "
                        "rerun the random-init run with the reference run's data, split and seed")
    keep = ["text", "label_random", "random"] + (["tfidf_random"] if "tfidf_random" in b else [])
    pairs = a[["text", "label", "pretrained", "tfidf"]].merge(b[keep], on="text", validate="one_to_one")
    if (pairs["label"] != pairs.pop("label_random")).any():
        raise UserError("the two runs' predictions.csv give one sentence two labels; rerun the "
                        "random-init run on the reference run's data")
    return pairs


def init_tests(pairs: pd.DataFrame, seed: int, alpha: float = significance.ALPHA,
               resamples: int = significance.RESAMPLES) -> dict:
    """McNemar for every pair of INIT_PAIRS, Holm across them, and paired bootstrap intervals
    on each accuracy difference (one set of resampled sentences for all three models)."""
    correct = {name: (pairs[name] == pairs["label"]).to_numpy() for name in INIT_ROWS}
    raw = {f"{a}-{b}": significance.mcnemar_exact(correct[a], correct[b]) for a, b in INIT_PAIRS}
    adjusted = significance.holm({key: t["p"] for key, t in raw.items()})
    # The same seed draws the same sentences for both references: the intervals are paired.
    draws = {ref: significance.bootstrap(correct, ref, resamples, seed) for ref in ("pretrained", "random")}
    tests = {}
    for a, b in INIT_PAIRS:
        key = f"{a}-{b}"
        tests[key] = {"first": a, "second": b,
                      "accuracy_difference": float(correct[a].mean() - correct[b].mean()),
                      "difference_ci95": draws[a]["difference"][b],
                      "first_only_correct": raw[key]["a_only"], "second_only_correct": raw[key]["b_only"],
                      "mcnemar_p": raw[key]["p"], "mcnemar_p_holm": adjusted[key],
                      "significant": bool(adjusted[key] < alpha)}
    return {"tests": tests, "alpha": alpha, "resamples": resamples, "seed": seed,
            "sentences": len(pairs)}


def recipe(config: dict) -> str:
    epochs = f"{config['epochs']:g} epoch" + ("" if config["epochs"] == 1 else "s")
    return (f"seed {config['seed']}, at most {epochs} (early stopping after "
            f"{config['patience']} without a better validation macro-F1), learning rate {config['lr']:g} "
            f"with {config['warmup']:.0%} warm-up, batch {config['batch_size']}, weight decay "
            f"{config['weight_decay']:g}, {config['max_length']} tokens per sentence, "
            + (f"{config['freeze_layers']} layers frozen" if config["freeze_layers"] else "nothing frozen"))


def init_verdict(t: dict) -> str:
    if not t["significant"]:
        return "no significant difference"
    return f"{SHORT[t['first'] if t['accuracy_difference'] > 0 else t['second']]} better"


def init_conclusion(pre: dict, rnd: dict, tests: dict) -> str:
    """What the numbers say, in words chosen by the numbers."""
    t = tests["tests"]
    buys, versus_tfidf, ahead = t["pretrained-random"], t["random-tfidf"], t["pretrained-tfidf"]
    text = [f"Pretraining buys {100 * buys['accuracy_difference']:+.1f} points of test accuracy"
            f"{interval(buys['difference_ci95'])} on the same sentences ("
            + ("significant after Holm" if buys["significant"] else "**not** significant after Holm")
            + f"): the same architecture, tokenizer and recipe reach {pct(pre['test_accuracy'])} from "
            f"the pretrained weights and {pct(rnd['test_accuracy'])} from random ones."]
    lead = 100 * versus_tfidf["accuracy_difference"]
    numbers = (f"{lead:+.1f} points{interval(versus_tfidf['difference_ci95'])}, Holm-adjusted p "
               f"{versus_tfidf['mcnemar_p_holm']:.2g}")
    if versus_tfidf["significant"] and lead < 0:
        text.append(f"From random weights the transformer does **worse than TF-IDF + logistic "
                    f"regression** ({numbers}): on {rnd['train_sentences']:,} training sentences the "
                    "architecture alone does not even match a bag of words.")
    elif not versus_tfidf["significant"]:
        text.append(f"From random weights the transformer does **no better than TF-IDF + logistic "
                    f"regression** ({numbers}, no significant difference): on "
                    f"{rnd['train_sentences']:,} training sentences the architecture alone does not "
                    "beat a bag of words.")
    else:
        share = versus_tfidf["accuracy_difference"] / ahead["accuracy_difference"]
        text.append(f"From random weights the transformer still beats TF-IDF + logistic regression "
                    f"({numbers}): about {share:.0%} of the pretrained fine-tune's lead over TF-IDF "
                    "comes from the architecture trained on these sentences, the rest from pretraining.")
    if ahead["significant"] and ahead["accuracy_difference"] > 0 and not (
            versus_tfidf["significant"] and lead > 0):
        gap = 100 * ahead["accuracy_difference"]
        text.append(f"So the pretrained fine-tune's lead over TF-IDF ({gap:+.1f} points) is what its "
                    "pretrained weights bring.")
    if rnd["epochs_run"] < rnd.get("epochs", rnd["epochs_run"]):
        text.append(f"The random-init run stopped early, after epoch {rnd['epochs_run']:g} (best: "
                    f"{rnd['best_epoch']:g}).")
    elif rnd["best_epoch"] == rnd["epochs_run"]:
        text.append(f"Its best validation epoch was its last ({rnd['best_epoch']:g}): from random "
                    "weights more epochs than this recipe's might still help, the budget question "
                    "that this control holds fixed.")
    return " ".join(text)


def pretraining_section(pre: dict, rnd: dict, pre_config: dict, rnd_config: dict,
                        tests: dict, tfidf_check: int | None) -> str:
    """The three rows (pretrained fine-tune, random-init fine-tune, TF-IDF from the pretrained
    run), the Holm-corrected McNemar tests between them and the conclusion. `tfidf_check`: on
    how many test sentences the random run's own TF-IDF refit disagrees with the pretrained
    run's (None: it fitted none)."""
    tfidf = pre["baselines"]["tfidf_logreg"]
    rows = []
    for key, m in (("pretrained", pre), ("random", rnd), ("tfidf", tfidf)):
        accuracy = pct(m["test_accuracy"]) + interval(m.get("test_accuracy_ci95"), unit="%")
        rows.append([INIT_ROWS[key], accuracy,
                     f"{m['test_macro_f1']:.3f}", f"{m['train_seconds']:.0f}",
                     f"{m['best_epoch']:g} of {m['epochs_run']:g}" if "best_epoch" in m else "-"])
    table = reporting.markdown_table(["model", "test accuracy [95% interval]", "test macro-F1",
                                      "training seconds", "best epoch (of epochs run)"], rows)
    params = (f"{pre['params']:,} parameters each" if pre["params"] == rnd["params"] else
              f"**{pre['params']:,} and {rnd['params']:,} parameters**")
    differ = sorted(k for k in set(pre_config) | set(rnd_config)
                    if k not in NOT_RECIPE and pre_config.get(k) != rnd_config.get(k))
    same = (f"Both runs: `results/{pre_config['run_name']}` and `results/{rnd_config['run_name']}`, "
            f"{pre['train_sentences']:,} training and {pre['test_sentences']:,} test sentences, "
            f"{params}, {recipe(pre_config)}; their "
            "config.json files are equal in every setting but `--init`" if not differ else
            f"**The two runs also differ in {', '.join(differ)}, so this is not a one-factor "
            f"control**; pretrained run: {recipe(pre_config)}; random-init run: {recipe(rnd_config)}")
    check = ("" if tfidf_check is None else
             " The random-init run refit TF-IDF on its own split and predicted every test sentence "
             "as the reference run's TF-IDF did (the check that both read the same split)." if not tfidf_check
             else f" **The random-init run's own TF-IDF refit disagrees with the reference run's on "
                  f"{tfidf_check:,} test sentences: the runs did not read the same split.**")
    same_steps = pre.get("epochs_run") == rnd.get("epochs_run")
    timing = (" Training seconds are wall-clock time on 2 CPU cores and depend on what else the machine "
              "ran at the time: both fine-tunes do the same work per step"
              + (" and ran the same number of steps, so a gap in seconds is the machine's load, not "
                 "the weights." if same_steps else
                 f", but they ran {pre.get('epochs_run', 0):g} and {rnd.get('epochs_run', 0):g} epochs."))
    k, alpha = len(tests["tests"]), tests["alpha"]
    test_rows = [[f"{SHORT[t['first']]} vs {SHORT[t['second']]}", f"{t['first_only_correct']:,}",
                  f"{t['second_only_correct']:,}",
                  f"{100 * t['accuracy_difference']:+.1f}" + interval(t["difference_ci95"]),
                  f"{t['mcnemar_p']:.2g}", f"{t['mcnemar_p_holm']:.2g}", init_verdict(t)]
                 for t in tests["tests"].values()]
    test_table = reporting.markdown_table(
        ["first vs second", "sentences only the first gets right", "only the second gets right",
         "accuracy difference, points [95% interval]", "McNemar p", "Holm-adjusted p",
         f"verdict at {alpha:g}"], test_rows)
    smoke = ("\n\n**A smoke run is among these: its numbers say nothing.**"
             if pre.get("smoke") or rnd.get("smoke") else "")
    return (f"{table}\n\n{same}.{check}{timing}\n\nOn the same {tests['sentences']:,} test sentences, "
            f"paired by sentence: the exact McNemar test, Holm's correction across these {k} tests, and "
            f"{significance.LEVEL:.0%} percentile bootstrap intervals over the test sentences, paired "
            f"({tests['resamples']:,} resamples, seed {tests['seed']}).\n\n{test_table}\n\n"
            f"{init_conclusion(pre, rnd, tests)}{smoke}\n\n"
            f"![Validation macro-F1 per epoch and training loss, pretrained vs random weights]"
            f"(results/{RANDOM.name}/{CURVES.name})")


def init_runs() -> tuple[dict, dict, dict, dict, pd.DataFrame] | None:
    """Both runs' metrics, configs and paired predictions; None when the random run is missing."""
    if not (RANDOM / "metrics.json").is_file():
        return None
    pre, rnd = files.read_json(RUN / "metrics.json"), files.read_json(RANDOM / "metrics.json")
    pre_config, rnd_config = files.read_json(RUN / "config.json"), files.read_json(RANDOM / "config.json")
    pre_config.setdefault("init", "pretrained")  # written before --init existed
    if rnd_config.get("init") != "random" or pre_config["init"] != "pretrained":
        raise UserError(f"{RANDOM.name} must be an --init random run and {RUN.name} a pretrained one; "
                        f"they are {rnd_config.get('init')} and {pre_config['init']}")
    rnd["epochs"] = rnd_config["epochs"]
    pairs = paired_predictions(read_predictions(RUN / "predictions.csv"),
                               read_predictions(RANDOM / "predictions.csv"))
    return pre, rnd, pre_config, rnd_config, pairs


def init_section() -> str:
    runs = init_runs()
    if runs is None:
        print(f"note: no random-init run in {RANDOM}; its section says how to make it", file=sys.stderr)
        return ("Not measured yet: run `python train.py --init random --run-name reference-minilm-random` "
                "in LLMind/ (minutes on 2 CPU cores), then `python report.py`.")
    pre, rnd, pre_config, rnd_config, pairs = runs
    tfidf_check = (int((pairs["tfidf"] != pairs["tfidf_random"]).sum())
                   if "tfidf_random" in pairs else None)
    tests = init_tests(pairs, seed=pre_config["seed"])
    return pretraining_section(pre, rnd, pre_config, rnd_config, tests, tfidf_check)


def draw_init_curves() -> Path | None:
    """pretrained_vs_random.png from both runs' history.json (nothing without the random run)."""
    if not (RANDOM / "history.json").is_file():
        return None
    plots = load_stage_config(STAGE_DIR / "plots.py")
    histories = {"pretrained weights": files.read_json(RUN / "history.json")["log"],
                 "random weights": files.read_json(RANDOM / "history.json")["log"]}
    tfidf = files.read_json(RUN / "metrics.json").get("baselines", {}).get("tfidf_logreg", {})
    return plots.pretrained_vs_random(histories, tfidf.get("val_macro_f1"), CURVES)


def sections() -> dict[str, str]:
    """Every generated section of the README, from the reference runs; a metrics file older
    than the tests it should hold is a note, not an error."""
    if not (RUN / "metrics.json").is_file():
        raise UserError(f"no reference run in {RUN}; run `make bench` (or "
                        "`python LLMind/train.py --run-name reference-minilm`) first")
    m = files.read_json(RUN / "metrics.json")
    m["freeze_layers"] = files.read_json(RUN / "config.json")["freeze_layers"]
    tests = significance_section(m)
    if tests is None or "data_repeated_dropped" not in m:
        print(STALE.format(what="the split's de-duplication counts, intervals or McNemar's tests",
                           path=RUN / "metrics.json"), file=sys.stderr)
    results = results_table(m) + "\n\n" + summary(m) + (f"\n\n{tests}" if tests else "")
    content = {"results": results,
               "tuning": tuning_section(files.read_json(TUNING) if TUNING.is_file() else None)}
    if TOKENIZERS.is_file():
        content["tokenizers"] = tokenizer_section(files.read_json(TOKENIZERS))
    content["pretraining-encoder"] = init_section()
    return content


def main(argv=None) -> int:
    args = reporting.report_parser(__doc__).parse_args(argv)
    status = reporting.write_report(README, sections, check=args.check)
    if status == 0 and not args.check:  # --check writes nothing, a figure included
        draw_init_curves()
    return status


if __name__ == "__main__":
    sys.exit(main())
