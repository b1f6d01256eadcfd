"""The text of the stage 3 vs 4 write-up, generated from a comparison.json (see compare.py).

Every number and every verdict below is computed from that file; the fixed sentences only say
what the numbers mean.
"""

from __future__ import annotations

from shared import features, reporting

ALPHA = 0.05  # significance level of the Diebold-Mariano tests
FOCUS = 2.0  # attention "focuses" if some lag gets more than FOCUS x the uniform weight


def price_format(c: dict) -> str:
    """Price errors in cents; in tenths of a cent for a stock that trades below $100."""
    return "{:.2f}" if sum(c["actual"]) / len(c["actual"]) >= 100 else "{:.3f}"


def pm(m: dict, key: str, fmt: str) -> str:
    return f"{fmt.format(m[f'{key}_mean'])} ± {fmt.format(m[f'{key}_std'])}"


def significance(p: float) -> str:
    return f"significant at the {ALPHA:.0%} level" if p < ALPHA else "not significant"


def versus_persistence(m: dict) -> str:
    u, p = m["test_theil_u_mean"], m["dm_vs_persistence_pvalue"]
    if p >= ALPHA:
        return f"ties with persistence (Theil's U {u:.3f}, DM p = {p:.2f})"
    return (f"{'beats' if u < 1 else 'loses to'} persistence (Theil's U {u:.3f}, "
            f"DM p = {p:.3f})")


def pair_sentence(c: dict, pair: dict) -> str:
    a, b, price = c["models"][pair["a"]], c["models"][pair["b"]], price_format(c).format
    change = (pair["rmse_a"] - pair["rmse_b"]) / pair["rmse_b"]
    gap = ("the same to within 0.1%" if abs(change) < 0.001 else
           f"{abs(change):.1%} {'lower' if change < 0 else 'higher'}")
    return (f"{pair['meaning'].capitalize()}: the {a['label']} has a test RMSE of "
            f"{price(pair['rmse_a'])} against {price(pair['rmse_b'])} for the {b['label']}, "
            f"{gap}; DM p = {pair['dm_pvalue']:.3f}, "
            f"{significance(pair['dm_pvalue'])}.")


def attention_sentence(c: dict) -> str:
    a = c.get("attention")
    if not a:
        return ""
    uniform = 1 / c["lookback"]
    peak_weight = max(a["by_lag_mean"])
    shape = ("close to uniform: no lag gets even twice the weight of an even spread, so the maps "
             "do not single out the days that drove a forecast" if peak_weight < FOCUS * uniform
             else f"focused: the heaviest lag gets {peak_weight / uniform:.1f} times the uniform "
                  "weight")
    return (f"Interpretability: averaged over the test days, the transformer's cross-attention "
            f"puts {a['recent_share']:.1%} of its weight on the last {a['recent_days']} days of "
            f"the window (uniform: {a['uniform_recent_share']:.1%}); its heaviest lag is "
            f"{-a['peak_lag']} days back. The pattern is {shape}.")


def conclusion(c: dict) -> str:
    m = c["models"]
    t, k, p = m["transformer"], m["keras-lstm"], m["torch-lstm"]
    per_epoch = t["seconds_per_epoch"] / k["seconds_per_epoch"]
    to_best = t["seconds_to_best_mean"] / k["seconds_to_best_mean"]
    lines = [
        "Against the naive baseline: " + "; ".join(
            f"the {x['label']} {versus_persistence(x)}" for x in m.values()) + ".",
        *(pair_sentence(c, pair) for pair in c["pairs"]),
        (f"Speed on 2 CPU cores: an epoch of the transformer takes {t['seconds_per_epoch']:.2f} s, "
         f"{per_epoch:.1f}x the Keras LSTM's {k['seconds_per_epoch']:.2f} s and "
         f"{t['seconds_per_epoch'] / p['seconds_per_epoch']:.1f}x the PyTorch LSTM's "
         f"{p['seconds_per_epoch']:.2f} s; reaching its best validation epoch takes "
         f"{t['seconds_to_best_mean']:.1f} s against {k['seconds_to_best_mean']:.1f} s "
         f"({to_best:.1f}x). One forecast takes {t['latency_ms_mean']:.2f} ms against "
         f"{k['latency_ms_mean']:.2f} ms and {p['latency_ms_mean']:.2f} ms."),
        attention_sentence(c),
    ]
    return "\n".join(f"- {line}" for line in lines if line)


def accuracy_table(c: dict) -> str:
    rows, fmt = [], price_format(c)
    price = fmt.format
    for m in c["models"].values():
        rows.append([f"**{m['label']}**", pm(m, "test_rmse", fmt), pm(m, "test_mae", fmt),
                     pm(m, "test_mape", "{:.2f}"), pm(m, "test_directional_accuracy", "{:.1%}"),
                     pm(m, "test_theil_u", "{:.3f}"), f"{m['dm_vs_persistence_pvalue']:.3f}"])
    for name, b in c["baselines"].items():
        flat = name == "persistence"  # the reference: no move predicted, U = 1 by definition
        rows.append([name, price(b["test_rmse"]), price(b["test_mae"]), f"{b['test_mape']:.2f}",
                     "n/a" if flat else f"{b['test_directional_accuracy']:.1%}",
                     f"{b['test_theil_u']:.3f}", "n/a" if flat else f"{b['test_dm_pvalue']:.3f}"])
    return reporting.markdown_table(
        ["model", "RMSE", "MAE", "MAPE %", "direction", "Theil's U", "DM p vs persistence"], rows)


def pairs_table(c: dict) -> str:
    price = price_format(c).format
    rows = [[f"{c['models'][x['a']]['label']} vs {c['models'][x['b']]['label']}", x["meaning"],
             f"{price(x['rmse_a'])} vs {price(x['rmse_b'])}", f"{x['dm_stat']:+.2f}",
             f"{x['dm_pvalue']:.3f}", significance(x["dm_pvalue"])] for x in c["pairs"]]
    return reporting.markdown_table(
        ["comparison", "what it isolates", "test RMSE", "DM statistic", "p-value", "verdict"], rows)


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
        winner = m["transformer"] if main_pair["rmse_a"] < main_pair["rmse_b"] else m["keras-lstm"]
        rows.append([f"[{o['ticker']}](stage3-vs-stage4-{o['ticker'].lower()}.md)",
                     f"{o['test_start']} to {o['test_end']}",
                     *(pm(m[k], "test_theil_u", "{:.3f}") for k in ("keras-lstm", "torch-lstm",
                                                                      "transformer")),
                     f"{winner['label'].split(' (')[0]}, DM p = {main_pair['dm_pvalue']:.3f}"])
    return reporting.markdown_table(
        ["ticker", "test period", "U, Keras LSTM", "U, PyTorch LSTM", "U, transformer",
         "lower RMSE: transformer vs Keras LSTM"], rows)


def render(c: dict, prefix: str, others: list[dict]) -> str:
    ticker, m = c["ticker"], c["models"]
    command = "make compare" + ("" if ticker == "GOOG" else f" TICKER={ticker}")
    seeds = m["transformer"]["seeds"]
    model_list = "; ".join(f"the {x['label']}, {x['params']:,} parameters" for x in m.values())
    timing = (f" The run that wrote this page took {c['total_seconds']:.0f} s on 2 CPU cores."
              if "total_seconds" in c else "")
    parts = [
        f"# Stage 3 vs stage 4 on {ticker}: does attention beat recurrence?",
        f"Generated by `{command}` (`python CodeLLM/compare.py --ticker {ticker}`) from "
        f"`CodeLLM/results/compare-{ticker.lower()}/comparison.json`; do not edit by hand.{timing}"
        + ("" if ticker == "GOOG" else " The main comparison is [on GOOG](stage3-vs-stage4.md)."),
        "The usual claims are that transformers are more accurate than recurrent networks, "
        "train faster, and are easier to interpret through their attention maps. This page tests "
        "each claim on one task: forecasting tomorrow's close.",
        "## Setup",
        f"- **Data**: the bundled daily {ticker} prices, {len(features.FEATURES)} features per "
        f"day (OHLCV, moving averages, RSI, MACD, Bollinger bands, returns), windows of "
        f"{c['lookback']} days, target the next day's log {c['target']}. Chronological split "
        f"70/15/15; the test period is {c['test_start']} to {c['test_end']} ({c['test_days']} "
        "trading days), untouched by training and model selection. Scalers are fitted on "
        "training rows only.",
        f"- **Models**: {model_list}. "
        "The PyTorch LSTM copies stage 3's network so that differences between it and the "
        "transformer come from the architecture, and differences between it and the Keras LSTM "
        "from the framework.",
        f"- **Training**: {seeds} seed{'s' if seeds > 1 else ''} each (the same seed numbers), "
        "early stopping on the "
        "validation loss, the best validation epoch kept. Numbers are mean ± std over seeds.",
        "- **Tests**: Theil's U is the model's RMSE over persistence's (tomorrow = today); "
        "below 1 is better. The Diebold-Mariano tests (with the Harvey-Leybourne-Newbold "
        "correction) compare squared errors day by day, averaged over seeds.",
        "## Conclusion",
        conclusion(c),
        "## Accuracy on the test period",
        accuracy_table(c),
        f"![Theil's U per model](img/{prefix}-theil_u.png)",
        f"![Forecasts on the test period](img/{prefix}-predictions.png)",
        "## Are the differences significant?",
        pairs_table(c),
        "A negative statistic means the first model's squared errors are smaller.",
        "## Speed",
        speed_table(c),
        "Seconds per epoch include the validation pass. ms per forecast is the median time to "
        "forecast one window on its own (batch of 1), as a live system would.",
        f"![Seconds per epoch](img/{prefix}-seconds_per_epoch.png)",
    ]
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
    parts += ["## Caveats",
              "- One stock, one split and small models trained on 2 CPU cores; a different "
              "period, a GPU or larger models can change the ranking, so rerun before you rely "
              "on it.\n- Next-day prices are close to a random walk: a model that beats "
              "persistence by a hair on one test period has not found an edge.\n- Speeds "
              "depend on the machine and library versions; ratios travel better than seconds."]
    return "\n\n".join(parts) + "\n"
