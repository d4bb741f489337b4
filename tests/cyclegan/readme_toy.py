"""Toy sizes and inputs for the cyclegan README commands (merged into tests/test_readme.py's TOY table)."""

from pathlib import Path

ENGINE = ["--max-steps", "3", "--no-tensorboard", "--no-progress", "--log-every", "1", "--sample-every", "0",
          "--checkpoint-every", "2"]
TOY = {
    ("cyclegan", "train"): ENGINE + ["--ngf", "4", "--ndf", "4", "--batch-size", "2", "--eval-samples", "0"],
    ("cyclegan", "evaluate"): ["--n", "50"],
    ("cyclegan", "sample"): ["--n", "2"],
}


def materials(root: Path) -> dict[str, str]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    paintings = root / "paintings"
    paintings.mkdir(parents=True, exist_ok=True)
    for i in range(8):
        Image.fromarray(rng.integers(0, 255, (40, 56, 3), dtype="uint8")).save(paintings / f"{i}.png")
    Image.fromarray(rng.integers(0, 255, (28, 28), dtype="uint8"), "L").save(root / "digit.png")
    return {"paintings/": str(paintings), "digit.png": str(root / "digit.png")}
