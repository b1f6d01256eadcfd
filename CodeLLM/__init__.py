"""Stage 4, CodeLLM. Its projects are scripts in their own folders (lessons/, forecaster/,
minigpt/, seq2seq/, compare/); the folder is also a package, installed by `make setup`, only so
that the three transformer projects can import one copy of the building blocks:
`from CodeLLM.blocks import EncoderBlock`. No other stage imports it.
"""
