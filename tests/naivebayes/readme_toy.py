"""Toy sizes for the naive-bayes README commands (merged into tests/test_readme.py's TOY table)."""

TOY = {
    ("naive-bayes", "synth"): ["--n", "300", "--n-test", "100"],
    ("naive-bayes", "evaluate"): ["--samples", "500"],
}
