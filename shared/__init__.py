"""The package every stage imports, cut by domain:

* shared.lm: language models (text, tokens, scoring, metrics, sampling, the shared loop);
* shared.prices: prices and forecasting (market data and its checks, indicators, windows,
  forecast metrics and baselines, seed runs, their settings);
* shared.runtime: what any train script needs (devices, DDP and mixed precision, files and
  checkpoints, settings to flags, the learning-rate schedule, one-line errors);
* shared.plotting: PNG plots, for every domain.

Installed by `make setup`. Repository tooling (generated README sections, loading a module by
path, bench helpers) lives in the separate `tools` package, which nothing here imports.
"""
