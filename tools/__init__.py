"""Repository tooling that learners never need: writing the generated sections of the READMEs
(`reporting`), importing a stage's module by path (`loader`), the machine's matmul peak
(`bench`) and keeping the stages' walkthrough notebooks stripped and runnable (`notebooks`).

Imported by the stages' report.py scripts, docs/build.py and docs/front_page.py (`make docs`),
benchmarks/run.py (`make bench`), the mini-GPT's train script (its share of the matmul peak)
and the tests; never by the `shared` package, which the stages import to train and score.
"""
