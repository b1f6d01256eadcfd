"""The price and forecasting pieces of stages 3 and 4 (MemoryLLM's LSTM and CodeLLM's
transformer forecaster and comparison): daily prices read and checked (`market`, `checks`),
indicators (`features`), windows and scalers (`windows`), forecast metrics, baselines and tests
(`forecast`), a run over several seeds (`runs`) and the data settings both stages take
(`config`).

Imported by MemoryLLM/, CodeLLM/'s forecaster and stage 3 vs 4 comparison, and their tests.
Nothing here needs PyTorch except `runs` (through shared.runtime.files), so the Keras stage
predicts without it.
"""
