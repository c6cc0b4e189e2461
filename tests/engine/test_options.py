"""One table of options (options.OPTIONS) drives the settings' checks and the ``moss front`` parser."""

import argparse

import pytest

from moss_engine.commands.main import build_parser
from moss_engine.errors import MossInputError
from moss_engine.options import OPTIONS
from moss_engine.settings import make_settings


def _front_actions() -> dict[str, argparse.Action]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices["front"]._actions}


def test_every_option_is_on_the_command_line_with_its_flag_help_and_choices():
    actions = _front_actions()
    for name, option in OPTIONS.items():
        action = actions[name]
        assert action.option_strings == [option.flag]
        assert action.help == option.help
        if option.choices:
            assert tuple(action.choices) == option.choices


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("points", 257),
        ("points", 1),
        ("steps", 0),
        ("db_range", 201.0),
        ("gamma", 0.05),
        ("sample_rate", 7999),
        ("memory_limit_gb", 0.01),
        ("fit", "crop"),
        ("algorithm", "sgd"),
    ],
)
def test_a_value_outside_the_table_is_refused_in_the_tables_words(data_dir, name, value):
    with pytest.raises(MossInputError) as caught:
        make_settings(
            data_dir / "img_portrait_skimage_astronaut.png",
            data_dir / "music_rock_sectoid_metal_madness_30s.ogg",
            "preview",
            **{name: value},
        )
    assert caught.value.field == name
    assert str(caught.value) == f"{OPTIONS[name].flag} {value}: expected {OPTIONS[name].expected()}"


@pytest.mark.parametrize("name", ["points", "db_range", "gamma"])
def test_the_bounds_themselves_are_allowed(data_dir, name):
    option = OPTIONS[name]
    for value in (option.low, option.high):
        settings = make_settings(
            data_dir / "img_portrait_skimage_astronaut.png",
            data_dir / "music_rock_sectoid_metal_madness_30s.ogg",
            "preview",
            **{name: value},
        )
        assert getattr(settings, name) == value
