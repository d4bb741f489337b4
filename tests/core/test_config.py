"""Config dataclasses <-> argparse flags and JSON dicts, and the validation helpers' messages."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass
from typing import Literal

import pytest

from genlab.core.config import (add_dataclass_arguments, cfg_field, check_choice, check_non_negative, check_positive,
                                from_dict, given_options, replace, to_dict)
from genlab.core.engine import TrainConfig
from genlab.core.errors import ConfigError


@dataclass
class DemoConfig:
    num_layers: int = cfg_field(3, help="how many layers")
    learning_rate: float = cfg_field(0.5, help="step size")
    run_name: str = cfg_field("demo", help="name of the run")
    use_bias: bool = cfg_field(True, help="add a bias")
    max_steps: int | None = cfg_field(None, help="stop after N steps")
    mode: Literal["fast", "slow"] = cfg_field("fast", help="speed mode")
    hidden_sizes: tuple[int, ...] = cfg_field((16, 32), help="widths of the hidden layers")
    color: str = cfg_field("red", help="a colour", choices=("red", "blue"))
    internal_seed: int = cfg_field(7, help="not on the command line", cli=False)

    def __post_init__(self) -> None:
        check_positive("num_layers", self.num_layers)
        check_positive("learning_rate", self.learning_rate)
        check_positive("max_steps", self.max_steps, allow_none=True)
        check_choice("mode", self.mode, ("fast", "slow"))


FLAGS = {"--num-layers", "--learning-rate", "--run-name", "--use-bias", "--no-use-bias", "--max-steps", "--mode",
         "--hidden-sizes", "--color"}


def parser_for(**defaults) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="demo")
    add_dataclass_arguments(parser, DemoConfig, defaults=defaults or None)
    return parser


def given(*argv: str) -> dict:
    return given_options(parser_for().parse_args(list(argv)), DemoConfig)


def help_text(parser: argparse.ArgumentParser) -> str:
    return " ".join(parser.format_help().split())  # argparse wraps lines; compare on single spaces


def test_flags_are_kebab_case_and_cli_false_is_hidden():
    flags = {s for action in parser_for()._actions for s in action.option_strings}
    assert flags == FLAGS | {"-h", "--help"}
    with pytest.raises(SystemExit) as e:
        parser_for().parse_args(["--internal-seed", "3"])
    assert e.value.code == 2


def test_exclude_leaves_flags_out():
    parser = argparse.ArgumentParser()
    add_dataclass_arguments(parser, DemoConfig, exclude=("mode", "color"))
    flags = {s for action in parser._actions for s in action.option_strings}
    assert flags == FLAGS - {"--mode", "--color"} | {"-h", "--help"}


def test_help_shows_every_default():
    text = help_text(parser_for())
    for expected in ("how many layers (default: 3)", "step size (default: 0.5)", "name of the run (default: demo)",
                     "add a bias (default: True)", "stop after N steps (default: none)",
                     "speed mode (default: fast)", "widths of the hidden layers (default: 16 32)",
                     "a colour (default: red)", "{fast,slow}", "{red,blue}"):
        assert expected in text, expected
    assert "not on the command line" not in text


def test_help_defaults_override():
    text = help_text(parser_for(num_layers=9, max_steps=100, hidden_sizes=(1, 2, 3)))
    assert "how many layers (default: 9)" in text
    assert "stop after N steps (default: 100)" in text
    assert "widths of the hidden layers (default: 1 2 3)" in text
    assert "how many layers (default: 3)" not in text
    assert given() == {}  # overriding the shown default does not make it a given option


def test_given_options_are_only_what_the_user_typed():
    assert given() == {}
    assert given("--num-layers", "5") == {"num_layers": 5}
    got = given("--learning-rate", "0.25", "--run-name", "x", "--no-use-bias", "--max-steps", "none", "--mode",
                "slow", "--hidden-sizes", "4", "8", "12", "--color", "blue")
    assert got == {"learning_rate": 0.25, "run_name": "x", "use_bias": False, "max_steps": None, "mode": "slow",
                   "hidden_sizes": (4, 8, 12), "color": "blue"}
    assert type(got["hidden_sizes"]) is tuple and type(got["learning_rate"]) is float
    assert given("--use-bias") == {"use_bias": True}
    assert given("--max-steps", "40") == {"max_steps": 40}
    assert given("--max-steps", "NULL") == {"max_steps": None}
    assert given("--hidden-sizes", "5") == {"hidden_sizes": (5,)}
    # Given options apply on top of a config (what --resume does).
    assert replace(DemoConfig(), **given("--num-layers", "6", "--hidden-sizes", "1", "2")) == \
        DemoConfig(num_layers=6, hidden_sizes=(1, 2))


def test_given_options_ignores_other_namespace_entries():
    args = argparse.Namespace(num_layers=2, out="runs/x", hidden_sizes=[1, 2])
    assert given_options(args, DemoConfig) == {"num_layers": 2, "hidden_sizes": (1, 2)}


@pytest.mark.parametrize("argv", [["--mode", "medium"], ["--color", "green"], ["--num-layers", "x"],
                                  ["--num-layers", "1.5"], ["--max-steps", "many"], ["--hidden-sizes"],
                                  ["--hidden-sizes", "1", "a"], ["--learning-rate", "fast"]])
def test_bad_values_exit_via_argparse(argv, capsys):
    with pytest.raises(SystemExit) as e:
        parser_for().parse_args(argv)
    assert e.value.code == 2
    assert "error: argument " + argv[0] in capsys.readouterr().err


def test_from_dict_converts_lists_and_rejects_unknown_keys():
    cfg = from_dict(DemoConfig, {"num_layers": 4, "hidden_sizes": [1, 2, 3], "internal_seed": 1})
    assert cfg == DemoConfig(num_layers=4, hidden_sizes=(1, 2, 3), internal_seed=1)
    assert type(cfg.hidden_sizes) is tuple
    with pytest.raises(ConfigError) as e:
        from_dict(DemoConfig, {"num_layers": 4, "zeta": 1, "alpha": 2})
    assert str(e.value).startswith("unknown option(s) for DemoConfig: alpha, zeta; valid: color, hidden_sizes, ")
    with pytest.raises(ConfigError, match=r"^unknown option\(s\) for saved config: zeta;"):
        from_dict(DemoConfig, {"zeta": 1}, what="saved config")
    with pytest.raises(ConfigError, match=r"^--num-layers must be > 0 \(got 0\)$"):
        from_dict(DemoConfig, {"num_layers": 0})


def test_from_dict_missing_required_field_is_a_config_error():
    @dataclass
    class Needs:
        size: int = cfg_field(help="required")

    assert from_dict(Needs, {"size": 2}) == Needs(size=2)
    with pytest.raises(ConfigError, match="^invalid Needs: .*size"):
        from_dict(Needs, {})


def test_to_dict_is_json_ready_and_round_trips():
    cfg = DemoConfig(num_layers=2, max_steps=10, mode="slow", hidden_sizes=(3, 4), use_bias=False)
    data = json.loads(json.dumps(to_dict(cfg)))
    assert data == {"num_layers": 2, "learning_rate": 0.5, "run_name": "demo", "use_bias": False, "max_steps": 10,
                    "mode": "slow", "hidden_sizes": [3, 4], "color": "red", "internal_seed": 7}
    assert from_dict(DemoConfig, data) == cfg


def test_replace_revalidates():
    cfg = DemoConfig()
    assert replace(cfg, num_layers=5, hidden_sizes=[7]) == DemoConfig(num_layers=5, hidden_sizes=(7,))
    assert cfg == DemoConfig()  # unchanged
    with pytest.raises(ConfigError, match=r"^--learning-rate must be > 0 \(got -1\)$"):
        replace(cfg, learning_rate=-1)
    with pytest.raises(ConfigError, match=r"^--mode must be one of fast, slow \(got 'medium'\)$"):
        replace(cfg, mode="medium")
    with pytest.raises(ConfigError, match=r"^unknown option\(s\) for DemoConfig: nope;"):
        replace(cfg, nope=1)


def test_check_positive():
    for ok in (1, 0.001, 10**9):
        check_positive("batch_size", ok)
    check_positive("max_steps", None, allow_none=True)
    for bad, shown in ((0, "0"), (-2, "-2"), (0.0, "0.0"), (float("nan"), "nan"), (None, "None"), (True, "True"),
                       ("3", "3")):
        with pytest.raises(ConfigError) as e:
            check_positive("batch_size", bad)
        assert str(e.value) == f"--batch-size must be > 0 (got {shown})"


def test_check_non_negative():
    for ok in (0, 0.0, 5, 2.5):
        check_non_negative("warmup_steps", ok)
    check_non_negative("warmup_steps", None, allow_none=True)
    for bad, shown in ((-1, "-1"), (-0.5, "-0.5"), (float("nan"), "nan"), (None, "None"), (False, "False")):
        with pytest.raises(ConfigError) as e:
            check_non_negative("warmup_steps", bad)
        assert str(e.value) == f"--warmup-steps must be >= 0 (got {shown})"


def test_check_choice():
    check_choice("lr_schedule", "cosine", ("constant", "cosine"))
    with pytest.raises(ConfigError) as e:
        check_choice("lr_schedule", "cosin", ("constant", "cosine"))
    assert str(e.value) == "--lr-schedule must be one of constant, cosine (got 'cosin')"
    assert isinstance(e.value, ValueError)  # ConfigError is also a ValueError


def test_train_config_round_trips_through_json():
    cfg = TrainConfig(epochs=3, max_steps=500, batch_size=32, lr=3e-4, optimizer="adamw", lr_schedule="cosine",
                      warmup_steps=10, grad_clip=1.0, precision="bf16", device="cpu", tensorboard=False)
    data = json.loads(json.dumps(to_dict(cfg)))
    assert data["max_steps"] == 500 and data["optimizer"] == "adamw" and data["tensorboard"] is False
    assert set(data) == {f.name for f in dataclasses.fields(TrainConfig)}
    assert from_dict(TrainConfig, data) == cfg
    assert from_dict(TrainConfig, to_dict(TrainConfig())) == TrainConfig()
    with pytest.raises(ConfigError, match=r"^--batch-size must be > 0 \(got 0\)$"):
        from_dict(TrainConfig, {**data, "batch_size": 0})


def test_train_config_flags():
    parser = argparse.ArgumentParser()
    add_dataclass_arguments(parser, TrainConfig)
    args = parser.parse_args(["--max-steps", "none", "--lr-schedule", "linear", "--no-tensorboard", "--lr", "0.01"])
    assert given_options(args, TrainConfig) == {"max_steps": None, "lr_schedule": "linear", "tensorboard": False,
                                                "lr": 0.01}
