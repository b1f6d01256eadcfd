"""The price and forecasting pieces of stages 3 and 4 (MemoryLLM's LSTM and CodeLLM's
transformer forecaster and comparison): daily prices read and checked (`market`, `checks`),
indicators (`features`), windows and scalers (`windows`), forecast metrics, baselines and tests
(`forecast`), a run over several seeds (`runs`), the data settings both stages take
(`config`) and the dataset they build from them, other tickers pooled in (`data`); for the
claims study, synthetic series with a known best forecast (`synthetic`) and the attention-at-
a-lag measure (`attribution`).

Imported by MemoryLLM/, CodeLLM/'s forecaster and stage 3 vs 4 comparison, and their tests.
Nothing here needs PyTorch except `runs` (through shared.runtime.files), so the Keras stage
predicts without it.
"""
