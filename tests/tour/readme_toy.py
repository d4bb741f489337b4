"""Toy flags for the README's tour and app commands (merged into tests/test_readme.py's TOY table): the tour runs
only its VAE section at toy size, the app starts, answers once and stops (--check) on a free port."""

TOY = {
    ("tour", "--list"): [],
    ("tour", "--out"): ["--toy", "--only", "vae"],
    ("app", "--runs-dir"): ["--check", "--port", "0"],
}
