"""The shape of the package: the family table, lazy loading, the layering core <- data <- features <- metrics <-
families <- cli, and the CLI's error contract for argparse errors."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import assert_one_line_error

SRC = Path(__file__).resolve().parents[1] / "src" / "genlab"


def test_every_family_and_shared_package_is_an_attribute_of_genlab():
    # B6: `import genlab; genlab.gan` raised AttributeError (as did .dream, .style, .metrics)
    import genlab
    from genlab.families import FAMILIES, PACKAGES

    for name in ("gan", "dream", "style", "metrics", "vae", "ae", "aae", "text", "latent", "imageopt", "features",
                 "data"):
        assert name in PACKAGES
        assert getattr(genlab, name).__name__ == f"genlab.{name}"
    for fam in FAMILIES:
        assert fam.package in {f"genlab.{p}" for p in PACKAGES}
    with pytest.raises(AttributeError):
        genlab.no_such_family  # noqa: B018


def test_argparse_errors_are_one_line(cli):
    # B5: `genlab vae train --latent-dim abc` printed 27 lines of usage
    code, out, err = cli("vae", "train", "--latent-dim", "abc")
    assert_one_line_error(code, err, "--latent-dim", "invalid int value: 'abc'", "genlab vae train -h")
    code, out, err = cli("gan", "train", "--no-such-flag")
    assert_one_line_error(code, err, "unrecognized arguments: --no-such-flag")
    code, out, err = cli("nosuchfamily")
    assert_one_line_error(code, err, "invalid choice")
    code, out, err = cli()
    assert_one_line_error(code, err, "FAMILY")


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def test_load_imports_only_the_module_of_its_model_type():
    legacy = Path(__file__).resolve().parent / "fixtures" / "legacy_runs" / "gan"
    loaded = _run(f"import sys, genlab; genlab.load({str(legacy)!r}); "
                  f"print(sorted(m for m in sys.modules if m.startswith('genlab.') and m.count('.') == 1))")
    families = {"genlab.vae", "genlab.ae", "genlab.aae", "genlab.text", "genlab.dream", "genlab.style",
                "genlab.latent", "genlab.imageopt", "genlab.metrics"}
    assert not families & set(eval(loaded)), loaded
    assert "'genlab.gan'" in loaded


def test_import_genlab_and_version_do_not_import_torch():
    assert _run("import sys, genlab; print('torch' in sys.modules)") == "False"
    out = subprocess.run([sys.executable, "-m", "genlab", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("genlab ")


def _imports(path: Path) -> set[str]:
    """Absolute names of the genlab modules a file imports (relative imports resolved)."""
    package = ".".join(("genlab", *path.relative_to(SRC).with_suffix("").parts[:-1]))
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.add(".".join([*base, *([node.module] if node.module else [])]))
            elif node.module and node.module.startswith("genlab"):
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("genlab")}
    return names


LAYERS = {"core": 0, "data": 1, "viz": 1, "features": 2, "metrics": 3}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layering_is_acyclic(layer):
    """core <- data/viz <- features <- metrics <- families <- cli: a layer imports only layers below it."""
    allowed = {name for name, rank in LAYERS.items() if rank < LAYERS[layer]} | {layer}
    bad = []
    for path in sorted((SRC / layer).rglob("*.py")):
        for name in _imports(path):
            parts = name.split(".")
            top = parts[1] if len(parts) > 1 else ""
            if top in ("", "__init__") or top in allowed or (layer == "core" and top == "core"):
                continue
            if name == "genlab" and layer != "core":  # `from .. import __version__`
                continue
            if name == "genlab":
                continue
            bad.append(f"{path.relative_to(SRC)} imports {name}")
    assert not bad, "\n".join(bad)


def test_tour_and_app_are_the_top_layer():
    """genlab.tour and genlab.app import the families; nothing imports them, except a family's own app_tab.py (which
    the app calls) and each other."""
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] in ("tour", "app") or rel.name == "app_tab.py":
            continue
        for name in _imports(path):
            if name.split(".")[1:2] in (["tour"], ["app"]):
                bad.append(f"{rel} imports {name}")
    assert not bad, "\n".join(bad)
