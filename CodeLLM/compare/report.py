"""The text of the stage 3 vs 4 write-up, generated from a comparison.json (see compare.py).

Every number and every verdict below is computed from that file; the fixed sentences only say
what the numbers mean.
"""

from __future__ import annotations

from shared.prices import features

from tools import reporting

ALPHA = 0.05  # significance level of the Diebold-Mariano tests, after the Holm correction
FOCUS = 2.0  # a head "focuses" if some lag gets more than FOCUS x the uniform weight
BASELINES = ("persistence", "drift", "ridge")  # the table's order
# The recipe fields in the order the table shows them (others, if any, follow sorted).
RECIPE_FIELDS = ("optimizer", "learning_rate", "adam_epsilon", "weight_decay", "lr_schedule",
                 "warmup_steps", "grad_clip", "dropout", "batch_size", "max_epochs",
                 "early_stopping_patience", "restore_best_weights", "initialisation", "shuffle")


def price_format(c: dict) -> str:
    """Price errors in cents; in tenths of a cent for a stock that trades below $100."""
    return "{:.2f}" if sum(c["actual"]) / len(c["actual"]) >= 100 else "{:.3f}"


def pm(m: dict, key: str, fmt: str) -> str:
    """mean ± sample std over seeds; the mean alone for a single seed (no spread exists)."""
    std = m[f"{key}_std"]
    return fmt.format(m[f"{key}_mean"]) + ("" if std is None else f" ± {fmt.format(std)}")


def short(label: str) -> str:
    return label.split(" (")[0]


def significance(p_holm: float) -> str:
    return f"significant at the {ALPHA:.0%} level" if p_holm <= ALPHA else "no significant difference"


def holm_note(c: dict) -> str:
    return (f"Holm-corrected across the {len(c['tests'])} tests on this page (each model and "
            f"baseline against persistence, and the {len(c['pairs'])} pairs), at the {ALPHA:.0%} level")


def versus_persistence(m: dict) -> str:
    u, p, h = m["test_theil_u_mean"], m["dm_vs_persistence_pvalue"], m["dm_vs_persistence_holm"]
    numbers = f"Theil's U {u:.3f}, DM p = {p:.3f}, Holm p = {h:.3f}"
    if h > ALPHA:
        return f"shows no significant difference from persistence ({numbers})"
    return f"is significantly {'more' if m['dm_vs_persistence_stat'] < 0 else 'less'} accurate " \
           f"than persistence ({numbers})"


def pair_sentence(c: dict, pair: dict) -> str:
    a, b, price = c["models"][pair["a"]], c["models"][pair["b"]], price_format(c).format
    change = (pair["rmse_a"] - pair["rmse_b"]) / pair["rmse_b"]
    gap = ("the same to within 0.1%" if abs(change) < 0.001 else
           f"{abs(change):.1%} {'lower' if change < 0 else 'higher'}")
    return (f"{pair['meaning'].capitalize()}: the {a['label']} has a test RMSE of "
            f"{price(pair['rmse_a'])} against {price(pair['rmse_b'])} for the {b['label']}, "
            f"{gap}; DM p = {pair['dm_pvalue']:.3f}, Holm p = {pair['dm_holm']:.3f}: "
            f"{significance(pair['dm_holm'])}.")


def ridge_sentence(c: dict) -> str:
    r, models = c["baselines"]["ridge"], c["models"].values()
    worse = [m["label"] for m in models if m["test_rmse_mean"] > r["test_rmse"]]
    better = [m["label"] for m in models if m["test_rmse_mean"] <= r["test_rmse"]]
    if len(worse) == len(c["models"]):
        ranking = "a lower RMSE than all three networks"
    elif worse:
        ranking = (f"a lower RMSE than the {' and the '.join(worse)}, and not lower than the "
                   f"{' and the '.join(better)}")
    else:
        ranking = "a higher RMSE than all three networks"
    edge = ", at the edge of its grid" if r["at_grid_edge"] else ""
    return (f"The ridge regression on the same windows (penalty {r['alpha']:g}, chosen on validation "
            f"from {r['alpha_grid_min']:g} to {r['alpha_grid_max']:g}{edge}) has Theil's U "
            f"{r['test_theil_u']:.3f}: {ranking}; against persistence, DM p = {r['test_dm_pvalue']:.3f}, "
            f"Holm p = {r['test_dm_holm']:.3f}: {significance(r['test_dm_holm'])}.")


def direction_sentence(c: dict) -> str:
    d = c["baselines"]["drift"]
    bar = d["test_directional_accuracy"]
    groups = {"above": [], "level with": [], "below": []}
    for m in c["models"].values():
        acc = m["test_directional_accuracy_mean"]
        groups["above" if acc > bar else "below" if acc < bar else "level with"].append(short(m["label"]))
    groups = {side: names for side, names in groups.items() if names}
    verdict = (f"all {next(iter(groups))} it" if len(groups) == 1 else
               ", ".join(f"the {' and the '.join(names)} {side} it" for side, names in groups.items()))
    return (f"Direction of the next day's move: always predicting the training drift's sign "
            f"({'a rise' if d['daily_step'] > 0 else 'a fall'}) is right on {bar:.1%} of test days, "
            "the naive bar; the networks score " + ", ".join(
                f"{m['test_directional_accuracy_mean']:.1%} ({short(m['label'])})"
                for m in c["models"].values()) + f" (means over seeds), {verdict}.")


def days_back(lag: int) -> str:
    return f"{-lag} day{'' if lag == -1 else 's'} back"


def attention_sentence(c: dict) -> str:
    a = c.get("attention")
    if not a:
        return ""
    uniform = 1 / c["lookback"]
    mean_ratio = max(a["by_lag_mean"]) / uniform
    text = (f"Interpretability: averaged over the test days, the transformer's cross-attention "
            f"puts {a['recent_share']:.1%} of its weight on the last {a['recent_days']} days of "
            f"the window (uniform: {a['uniform_recent_share']:.1%}); the mean over heads gives its "
            f"heaviest lag, {days_back(a['peak_lag'])}, {mean_ratio:.1f} times the uniform weight.")
    heads = a.get("by_lag_heads")
    if heads is None:
        return text + " This run did not record each head's weights, so the page makes no claim " \
                      "about single heads."
    ratios = [max(h) / uniform for h in heads]
    lags = [days_back(lag) for lag in a["head_peak_lags"]]
    focused = [i for i, r in enumerate(ratios) if r >= FOCUS]
    if not focused:
        best = max(range(len(ratios)), key=ratios.__getitem__)
        return text + (f" No head gives any lag {FOCUS:g} times the uniform weight (the most is "
                       f"{ratios[best]:.1f} times, head {best + 1}, {lags[best]}), so on "
                       "average over the test days the maps single out no particular days.")
    named = "; ".join(f"head {i + 1} gives {ratios[i]:.1f} times the uniform weight to the day "
                      f"{lags[i]}" for i in focused)
    rest = [i for i in range(len(ratios)) if i not in focused]
    others = (f"; the other heads stay below {FOCUS:g} times (at most {max(ratios[i] for i in rest):.1f})"
              if rest else "")
    return text + f" Single heads focus: {named}{others}."


def recipes(c: dict) -> dict[str, dict] | None:
    """Each model's training recipe, or None for runs saved before recipes were recorded."""
    found = {k: m.get("recipe") for k, m in c["models"].items()}
    return found if all(found.values()) else None


def recipe_fields(found: dict[str, dict]) -> list[str]:
    keys = set().union(*found.values())
    return [f for f in RECIPE_FIELDS if f in keys] + sorted(keys - set(RECIPE_FIELDS))


def show(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def recipe_table(c: dict) -> str:
    found = recipes(c)
    rows = [[f, *(show(r.get(f, "—")) for r in found.values())] for f in recipe_fields(found)]
    return reporting.markdown_table(["field", *(c["models"][k]["label"] for k in found)], rows)


def recipe_sentence(c: dict) -> str:
    found = recipes(c)
    t, k, p = found["transformer"], found["keras-lstm"], found["torch-lstm"]
    fields = recipe_fields(found)

    transformer = [f for f in fields if t.get(f) != k.get(f) or t.get(f) != p.get(f)]
    lstms = [f for f in fields if k.get(f) != p.get(f)]
    first = (f"The transformer's recipe differs from the LSTMs' in {len(transformer)} of the "
             f"{len(fields)} fields: {', '.join(transformer)} (the table gives the values)."
             if transformer else "The transformer trains with exactly the LSTMs' recipe.")
    second = ("The two LSTMs' recipes are the same in every field." if not lstms else
              "The two LSTMs' recipes also differ, in " + ", ".join(
                  f"{f} ({show(k.get(f, '—'))} vs {show(p.get(f, '—'))})" for f in lstms)
              + " (Keras vs PyTorch), so the framework pair does not isolate the framework.")
    return f"{first} {second}"


def conclusion(c: dict) -> str:
    m = c["models"]
    t, k, p = m["transformer"], m["keras-lstm"], m["torch-lstm"]
    per_epoch = t["seconds_per_epoch"] / k["seconds_per_epoch"]
    to_best = t["seconds_to_best_mean"] / k["seconds_to_best_mean"]
    lines = [
        "Against the naive baseline: " + "; ".join(
            f"the {x['label']} {versus_persistence(x)}" for x in m.values()) + ".",
        ridge_sentence(c),
        direction_sentence(c),
        *(pair_sentence(c, pair) for pair in c["pairs"]),
        (f"Speed on 2 CPU cores: an epoch of the transformer takes {t['seconds_per_epoch']:.2f} s, "
         f"{per_epoch:.1f}x the Keras LSTM's {k['seconds_per_epoch']:.2f} s and "
         f"{t['seconds_per_epoch'] / p['seconds_per_epoch']:.1f}x the PyTorch LSTM's "
         f"{p['seconds_per_epoch']:.2f} s; reaching its best validation epoch takes "
         f"{t['seconds_to_best_mean']:.1f} s against {k['seconds_to_best_mean']:.1f} s "
         f"({to_best:.1f}x). One forecast takes {t['latency_ms_mean']:.2f} ms against "
         f"{k['latency_ms_mean']:.2f} ms and {p['latency_ms_mean']:.2f} ms."),
        attention_sentence(c),
        f"All p-values are {holm_note(c)}.",
    ]
    return "\n".join(f"- {line}" for line in lines if line)


def accuracy_table(c: dict) -> str:
    rows, fmt = [], price_format(c)
    price = fmt.format
    for m in c["models"].values():
        rows.append([f"**{m['label']}**", pm(m, "test_rmse", fmt), pm(m, "test_mae", fmt),
                     pm(m, "test_mape", "{:.2f}"), pm(m, "test_directional_accuracy", "{:.1%}"),
                     pm(m, "test_theil_u", "{:.3f}"), f"{m['dm_vs_persistence_pvalue']:.3f}",
                     f"{m['dm_vs_persistence_holm']:.3f}"])
    for name in BASELINES:
        b = c["baselines"][name]
        flat = name == "persistence"  # the reference: no move predicted, U = 1 by definition
        label = (f"ridge (penalty {b['alpha']:g}, chosen on validation)" if name == "ridge" else
                 "drift (direction: always the training drift's sign)" if name == "drift" else name)
        tests = ("n/a", "n/a") if flat else (f"{b['test_dm_pvalue']:.3f}", f"{b['test_dm_holm']:.3f}")
        rows.append([label, price(b["test_rmse"]), price(b["test_mae"]), f"{b['test_mape']:.2f}",
                     "n/a" if flat else f"{b['test_directional_accuracy']:.1%}",
                     f"{b['test_theil_u']:.3f}", *tests])
    return reporting.markdown_table(
        ["model", "RMSE", "MAE", "MAPE %", "direction", "Theil's U", "DM p vs persistence", "Holm p"],
        rows)


def pairs_table(c: dict) -> str:
    price = price_format(c).format
    rows = [[f"{c['models'][x['a']]['label']} vs {c['models'][x['b']]['label']}", x["meaning"],
             f"{price(x['rmse_a'])} vs {price(x['rmse_b'])}", f"{x['dm_stat']:+.2f}",
             f"{x['dm_pvalue']:.3f}", f"{x['dm_holm']:.3f}", significance(x["dm_holm"])]
            for x in c["pairs"]]
    return reporting.markdown_table(
        ["comparison", "what it isolates", "test RMSE", "DM statistic", "p-value", "Holm p", "verdict"],
        rows)


def speed_table(c: dict) -> str:
    rows = []
    for m in c["models"].values():
        rows.append([m["label"], m["params"], f"{m['seconds_per_epoch']:.2f}",
                     ", ".join(str(e) for e in m["epochs"]), pm(m, "seconds_to_best", "{:.1f}"),
                     f"{m['train_seconds']:.0f}", pm(m, "latency_ms", "{:.2f}")])
    return reporting.markdown_table(
        ["model", "params", "s / epoch", "epochs run (per seed)", "s to best epoch",
         "s, all seeds", "ms per forecast"], rows)


def robustness_table(others: list[dict]) -> str:
    rows = []
    for o in others:
        m = o["models"]
        main_pair = next(x for x in o["pairs"] if (x["a"], x["b"]) == ("transformer", "keras-lstm"))
        change = (main_pair["rmse_a"] - main_pair["rmse_b"]) / main_pair["rmse_b"]
        change = "within 0.1%" if abs(change) < 0.001 else f"{change:+.1%}"
        rows.append([f"[{o['ticker']}](stage3-vs-stage4-{o['ticker'].lower()}.md)",
                     f"{o['test_start']} to {o['test_end']}",
                     *(pm(m[k], "test_theil_u", "{:.3f}") for k in ("keras-lstm", "torch-lstm",
                                                                      "transformer")),
                     f"{o['baselines']['ridge']['test_theil_u']:.3f}",
                     f"{change}, Holm p = {main_pair['dm_holm']:.3f}: "
                     f"{significance(main_pair['dm_holm'])}"])
    return reporting.markdown_table(
        ["ticker", "test period", "U, Keras LSTM", "U, PyTorch LSTM", "U, transformer", "U, ridge",
         "transformer vs Keras LSTM: RMSE change"], rows)


def render(c: dict, prefix: str, others: list[dict], claims: tuple[str, str] | None = None) -> str:
    """The page; `claims` (claims_report.sections) opens it with the claims table and closes it
    with their evidence."""
    ticker, m = c["ticker"], c["models"]
    command = "make compare" + ("" if ticker == "GOOG" else f" TICKER={ticker}")
    seeds = m["transformer"]["seeds"]
    model_list = "; ".join(f"the {x['label']}, {x['params']:,} parameters" for x in m.values())
    timing = (f" The run that wrote this page took {c['total_seconds']:.0f} s on 2 CPU cores."
              if "total_seconds" in c else "")
    parts = [
        f"# Stage 3 vs stage 4 on {ticker}: does attention beat recurrence?",
        f"Generated by `{command}` (`python CodeLLM/compare/compare.py --ticker {ticker}`) from "
        f"`CodeLLM/compare/results/compare-{ticker.lower()}/comparison.json`; do not edit by hand.{timing}"
        + ("" if ticker == "GOOG" else " The main comparison is [on GOOG](stage3-vs-stage4.md)."),
        "The usual claims are that transformers are more accurate than recurrent networks, "
        "train faster, and are easier to interpret through their attention maps. This page tests "
        "each claim on one task: forecasting tomorrow's close"
        + (", then each claim of the original notes on series where the best forecast is known "
           "([the claims, one by one](#the-claims-one-by-one))." if claims else "."),
        *([claims[0]] if claims else []),
        "## Setup",
        f"- **Data**: the bundled daily {ticker} prices, {len(features.FEATURES)} features per "
        f"day (OHLCV, moving averages, RSI, MACD, Bollinger bands, returns), windows of "
        f"{c['lookback']} days, target the next day's log {c['target']}. Chronological split "
        f"70/15/15; the test period is {c['test_start']} to {c['test_end']} ({c['test_days']} "
        "trading days), untouched by training and model selection. Scalers are fitted on "
        "training rows only.",
        f"- **Models**: {model_list}. "
        "The PyTorch LSTM copies stage 3's network and training recipe, so that differences "
        "between it and the transformer come from the architecture, and differences between it "
        "and the Keras LSTM from the framework"
        + ("; the three recipes are compared field by field [below](#training-recipes)" if recipes(c)
           else "; this run did not record the recipes, so the page cannot show that they match")
        + ".",
        f"- **Training**: {seeds} seed{'s' if seeds > 1 else ''} each (the same seed numbers), "
        "early stopping on the validation loss, the best validation epoch kept. Numbers are "
        + ("mean ± sample std (ddof = 1) over seeds." if seeds > 1 else "from one seed (no spread)."),
        "- **Tests**: Theil's U is the model's RMSE over persistence's (tomorrow = today); "
        "below 1 is better. Two more baselines: drift (today's close plus the training period's "
        "mean daily change), whose predicted move always has the training drift's sign and so is "
        "the naive bar for directional accuracy, and a ridge regression on the same flattened "
        "windows, its penalty chosen on the validation split. The Diebold-Mariano tests (with the "
        "Harvey-Leybourne-Newbold correction) compare squared errors day by day, averaged over "
        f"seeds: one test per model, never an average of p-values; p-values are {holm_note(c)}.",
        "## Conclusion",
        conclusion(c),
        "## Accuracy on the test period",
        accuracy_table(c),
        f"![Theil's U - 1 of every seed of every model, and of the baselines: below 0 beats "
        f"persistence](img/{prefix}-theil_u.png)",
        f"![Each model's error minus persistence's over the test days, and the month around the "
        f"largest move, where the forecasts make each move a day late](img/{prefix}-predictions.png)",
        "## Are the differences significant?",
        pairs_table(c),
        f"A negative statistic means the first model's squared errors are smaller. {holm_note(c)}; "
        "a verdict of no significant difference means the test cannot tell the two apart on these "
        "days, not that they are equal.",
        "## Speed",
        speed_table(c),
        "Seconds per epoch include the validation pass. ms per forecast is the median time to "
        "forecast one window on its own (batch of 1), as a live system would.",
        f"![Seconds per epoch](img/{prefix}-seconds_per_epoch.png)",
    ]
    if recipes(c):
        parts += ["## Training recipes", recipe_table(c), recipe_sentence(c)]
    if c.get("attention"):
        parts += ["## What the transformer attends to", attention_sentence(c),
                  "Each curve is one head's cross-attention weight on each day of the window, "
                  "averaged over the test days; the dashed line is an even spread.",
                  f"![Cross-attention by lag](img/{prefix}-attention_by_lag.png)",
                  "The same weights for three single days:",
                  f"![Cross-attention on chosen days](img/{prefix}-attention_cross.png)"]
    if others:
        parts += ["## Robustness: other tickers",
                  "The same command on other bundled stocks (`make compare TICKER=...`):",
                  robustness_table(others)]
    if claims:
        parts.append(claims[1])
    parts += ["## Caveats",
              "- One stock, one split and small models trained on 2 CPU cores; a different "
              "period, a GPU or larger models can change the ranking, so rerun before you rely "
              "on it.\n- Next-day prices are close to a random walk: a model that beats "
              "persistence by a hair on one test period has not found an edge.\n- Speeds "
              "depend on the machine and library versions; ratios travel better than seconds."]
    return "\n\n".join(parts) + "\n"
