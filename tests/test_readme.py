"""The README's promises: its two commands, .ci/run calling the test one, and its Python example running as shown."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from helpers import REPO, SHARED_DATA

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    ci = (REPO / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))] == ["make test"]
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def _run(code: str, cwd) -> str:
    code = code.replace("../shared/data", str(SHARED_DATA))  # the README runs from the repo root; tests from tmp
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.skipif(not (SHARED_DATA / "mnist").exists(), reason="needs ../shared/data (MNIST)")
def test_readme_vae_example_runs(tmp_path):
    out = _run(PYTHON_BLOCKS[0], tmp_path)
    match = re.search(r"test -ELBO ([\d.]+) nats, samples \(16, 1, 28, 28\)", out)
    assert match and 100 < float(match.group(1)) < 300, out
    assert (tmp_path / "runs" / "vae" / "readme" / "model.safetensors").exists()


@pytest.mark.skipif(not (SHARED_DATA / "tinyshakespeare").exists(), reason="needs ../shared/data")
def test_readme_text_example_runs(tmp_path):
    out = _run(PYTHON_BLOCKS[1], tmp_path)
    assert out.startswith("ROMEO:")
    match = re.search(r"val loss ([\d.]+) nats/char", out)
    assert match and 1.5 < float(match.group(1)) < 3.0, out


# ---- every command of the README runs as written, at toy size --------------------------------------------------

import os  # noqa: E402
import shlex  # noqa: E402
from pathlib import Path  # noqa: E402

BASH_BLOCKS = re.findall(r"```bash\n(.*?)```", README, re.S)[1:]  # the first block is `make demo` / `make test`
COMMANDS = [re.split(r"\s+#\s", line)[0].strip() for block in BASH_BLOCKS for line in block.splitlines()
            if line.strip().startswith(("genlab ", "torchrun "))]

# Toy sizes, appended after the README's own flags (argparse: the last value wins), so every command runs in seconds.
# They shrink networks and budgets; they never change what a command does.
ENGINE = ["--max-steps", "3", "--no-tensorboard", "--no-progress", "--log-every", "1", "--sample-every", "0",
          "--checkpoint-every", "2"]
TOY = {
    ("vae", "train"): ENGINE + ["--batch-size", "32", "--hidden-dims", "16"],
    ("ae", "train"): ENGINE + ["--batch-size", "32", "--hidden-dims", "16"],
    ("aae", "train"): ENGINE + ["--batch-size", "32", "--hidden-dims", "16", "--disc-hidden-dims", "8"],
    ("gan", "train"): ENGINE + ["--batch-size", "16", "--g-channels", "4", "--d-channels", "4", "--fid-samples", "0"],
    ("text", "train"): ENGINE + ["--batch-size", "4", "--block-size", "16"],
    ("style", "train"): ENGINE + ["--batch-size", "2", "--image-size", "32", "--width", "4", "--residual-blocks", "1",
                                  "--loss-network-weights", "random", "--style-size", "32"],
    ("gan", "evaluate"): ["--fid-samples", "100", "--no-progress"],
    ("gan", "sample"): ["--n", "4"],
    ("vae", "sample"): ["--n", "4"],
    ("text", "sample"): ["--length", "20", "--no-progress"],
    ("dream", "run"): ["--weights", "random", "--size", "96", "--octaves", "2", "--steps-per-octave", "2",
                       "--no-progress"],
    ("visualize", "run"): ["--weights", "random", "--size", "96", "--iterations", "2", "--no-progress"],
    ("style", "run"): ["--weights", "random", "--size", "48", "--evaluations", "2", "--no-progress"],
    ("vae", "scatter"): ["--max-points", "64"],
    ("vae", "manifold"): ["--grid-size", "4"],
}

# A new family keeps its toy flags and input files beside its tests, in tests/<family>/readme_toy.py:
#   TOY = {("cyclegan", "train"): [...], ...}            merged into the table above
#   def materials(root: Path) -> dict[str, str]: ...     README path -> the synthetic file/folder made under root
import importlib.util as _ilu  # noqa: E402

_FAMILY_TOYS = []
for _f in sorted((REPO / "tests").glob("*/readme_toy.py")):
    _spec = _ilu.spec_from_file_location(f"readme_toy_{_f.parent.name}", _f)
    _mod = _ilu.module_from_spec(_spec)
    _spec.loader.exec_module(_mod)
    TOY.update(getattr(_mod, "TOY", {}))
    _FAMILY_TOYS.append(_mod)

MODEL_TOY = {"gpt": ["--n-layer", "1", "--n-head", "2", "--n-embd", "16"],
             "lstm": ["--hidden-size", "16", "--embedding-dim", "8", "--num-layers", "1"]}


def _toy(argv: list[str]) -> list[str]:
    """The README's argv with toy-size flags appended (and the few flags whose real value would take minutes)."""
    family, verb = argv[0], argv[1]
    extra = list(TOY.get((family, verb), []))
    if family == "text" and verb == "train":
        extra += MODEL_TOY[argv[argv.index("--model") + 1]]
    if "--conv-channels" in argv:
        n = len([a for a in argv[argv.index("--conv-channels") + 1:] if a.isdigit()])
        extra += ["--conv-channels", *["4"] * n]
    if "--hidden-dims" in argv and family in ("vae", "ae", "aae"):
        extra += ["--hidden-dims", "16", "16"][: 1 + len([a for a in argv[argv.index("--hidden-dims") + 1:]
                                                             if a.isdigit()])]
    if "--iwae-k" in argv:
        extra += ["--iwae-k", "4", "--iwae-images", "8", "--no-progress"]
    if "--fid-samples" in argv and verb == "evaluate":
        extra += ["--fid-samples", "100"]
    if "--max-time" in argv:
        extra = [a for a in extra if a != "3" and a != "--max-steps"]
        extra += ["--max-time", "2s"]
    if "--length" in argv:
        extra += ["--length", "20"]
    if family == "text" and verb == "evaluate":
        extra += ["--no-progress"] if "--no-progress" in _help(family, verb) else []
    return argv + extra


_HELP: dict[tuple[str, str], str] = {}


def _help(family: str, verb: str) -> str:
    if (family, verb) not in _HELP:
        from genlab.cli import build_parser

        parser = build_parser([family, verb])
        sub = next(a for a in parser._actions if isinstance(a, __import__("argparse")._SubParsersAction))
        fam = sub.choices[family]
        verbs = next(a for a in fam._actions if isinstance(a, __import__("argparse")._SubParsersAction))
        _HELP[(family, verb)] = verbs.choices[verb].format_help()
    return _HELP[(family, verb)]


def _materials(root: Path, tiny_mnist: Path) -> dict[str, str]:
    """Files and folders the README's commands name, made small and synthetic in the test's working folder."""
    from PIL import Image

    from helpers import make_image_folder

    data = root / "data"
    for name in ("mnist", "fashion-mnist"):
        (data / name).mkdir(parents=True)
        for f in tiny_mnist.iterdir():
            (data / name / f.name).symlink_to(f)
    faces = root / "pictures" / "faces"
    faces.mkdir(parents=True)
    rows = []
    for i in range(40):
        Image.new("RGB", (40, 48), (10 * i, 200 - 5 * i, 90)).save(faces / f"{i:06d}.png")
        rows.append(f"{i:06d}.png {1 if i % 2 else -1} {1 if i % 3 else -1}")
    (root / "list_attr_celeba.txt").write_text(f"{len(rows)}\nSmiling Young\n" + "\n".join(rows) + "\n")
    make_image_folder(root / "pictures" / "cifar", n_per_class=12, size=32)
    make_image_folder(root / "photos", n_per_class=4, size=48)
    rng = __import__("numpy").random.default_rng(0)
    for name, side in (("photo.jpg", 120), ("big.jpg", 160), ("content.jpg", 96), ("style.jpg", 96)):
        Image.fromarray(rng.integers(0, 255, (side, side + 16, 3), dtype="uint8")).save(root / name)
    corpus = "First Citizen:\nBefore we proceed any further, hear me speak.\nROMEO:\nBut soft! what light.\n" * 30
    (root / "shakespeare.txt").write_text(corpus, encoding="utf-8")
    (root / "nietzsche.txt").write_bytes(("Supposing that Truth is a woman--what then? caf\xe9. " * 60)
                                         .encode("latin-1"))
    (root / "other.txt").write_text("Some other text, with new characters: 12345 {} <>.\n" * 5, encoding="utf-8")
    paths = {"../shared/data/tinyshakespeare/input.txt": str(root / "shakespeare.txt"),
             "../shared/data/nietzsche/nietzsche.txt": str(root / "nietzsche.txt"),
             "~/pictures/faces": str(faces), "~/pictures/cifar": str(root / "pictures" / "cifar"),
             "photos/": str(root / "photos")}
    for mod in _FAMILY_TOYS:
        if hasattr(mod, "materials"):
            paths.update(mod.materials(root))
    return paths


@pytest.mark.slow
@pytest.mark.timeout(1800)  # about 80 commands of eleven families, each at toy size
def test_every_readme_command_runs_as_written(tmp_path, tiny_mnist, monkeypatch, capsys):
    """Each `genlab ...` / `torchrun ...` line of the README, in order, in a fresh folder (later commands use the runs
    of earlier ones), with only toy sizes added: the README cannot drift from the CLI again."""
    from genlab.cli import main

    assert len(COMMANDS) >= 30, COMMANDS
    paths = _materials(tmp_path, tiny_mnist)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    failures = []
    for line in COMMANDS:
        argv = [paths.get(a, a) for a in shlex.split(line)]
        if argv[0] == "torchrun":
            i = argv.index("genlab")
            cmd = [sys.executable, "-m", "torch.distributed.run", *argv[1:i - 1], "-m", "genlab", *_toy(argv[i + 1:])]
            env = {**os.environ, "GENLAB_DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
            proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
            code, err = proc.returncode, proc.stderr
        else:
            code = main(_toy(argv[1:]))
            err = capsys.readouterr().err
        if code != 0:
            failures.append(f"{line}\n    -> exit {code}: {err.strip().splitlines()[-1] if err.strip() else ''}")
    assert not failures, "README commands that fail:\n" + "\n".join(failures)
