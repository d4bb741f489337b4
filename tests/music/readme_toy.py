"""Toy sizes for the music family's README commands (merged into tests/test_readme.py's TOY table).

One list per (family, verb) serves every --model: only flags that every music model accepts, plus the --musegan-*
sizes (which the other models do not read). MuseGAN refuses the other models' options (--hidden-size ...), so they
must not be added to ("music", "train").
"""

ENGINE = ["--max-steps", "3", "--no-tensorboard", "--no-progress", "--log-every", "1", "--sample-every", "0",
          "--checkpoint-every", "2"]

TOY = {
    ("music", "train"): ENGINE + ["--batch-size", "8", "--musegan-z-dim", "4", "--musegan-g-width", "8",
                                  "--musegan-d-width", "4", "--musegan-temporal-width", "8",
                                  "--musegan-eval-samples", "16"],
    ("music", "sample"): ["--n", "1"],
    ("music", "evaluate"): ["--n-samples", "40"],
}
