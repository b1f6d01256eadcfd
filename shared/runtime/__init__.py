"""What every train script needs whatever it models: the device, seeds and threads (`devices`),
one process or many under torchrun with mixed precision (`parallel`), run folders, JSON and
checkpoints written atomically and read back safely (`files`), the settings-to-flags helper
and the runtime flags (`config`), the learning-rate schedule (`schedule`), and the one-line
user errors (`errors`).

Imported by every stage's scripts and by shared.lm and shared.prices. It holds no model and no
data: nothing here knows what a stage trains.
"""
