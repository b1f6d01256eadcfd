"""The language-model pieces of stages 1 and 2, the stage 4 mini-GPT and a stage made by `make
new-stage`: the text (`text`), its characters as token ids (`tokens`), the scoring protocol
(`scoring`) and its metrics (`metrics`), sampling (`sampling`), and the training loop that
stage 2 and the mini-GPT share (`loop`; stage 1 writes it out in TinyLLM/train.py); and the
synthetic recall task of the "why gates" experiment (`recall`: TinyLLM/gates.py and
CodeLLM/minigpt/recall.py).

Imported by TinyLLM/, SmaLLM/, CodeLLM's mini-GPT, the new-stage template, TinyLLM/report.py,
docs/build.py and the tests.
"""
