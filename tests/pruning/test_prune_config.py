"""Typed pruning configs: JSON round trips, inapplicable options refused by name, CLI flags from the same classes."""

from __future__ import annotations

import argparse
import inspect
import json

import pytest

from edgeprune.errors import ConfigError
from edgeprune.pruning.config import (
    METHODS,
    MagnitudeOptions,
    OBDOptions,
    PruneConfig,
    RegOptions,
    ScheduleOptions,
    Target,
    TaylorOptions,
)


def _json(obj) -> dict:
    return json.loads(json.dumps(obj.to_dict()))


@pytest.mark.parametrize("options", [MagnitudeOptions(norm="l2"), OBDOptions(fisher="hutchinson", hutchinson_probes=2),
                                     TaylorOptions(samples=64), RegOptions(lam=1e-4, grouping="feature"),
                                     ScheduleOptions(scope="uniform", round_to=1, seed=3)])
def test_family_options_round_trip_through_json(options):
    assert type(options).from_dict(_json(options)) == options


@pytest.mark.parametrize("method,kw", [("obd", {"target_macs": 0.25, "fisher": "exact", "seed": 2}),
                                       ("seed", {"per_step": 16}),
                                       ("reg+taylor", {"ratio": 0.5, "lam": 1e-5, "reg_epochs": 0, "samples": 32}),
                                       ("magnitude", {"target_speedup": 3.0, "norm": "l2"})])
def test_prune_config_round_trips_through_json(method, kw):
    config = PruneConfig.from_options(method, **kw)
    again = PruneConfig.from_dict(_json(config))
    assert again == config
    assert again.options() == config.options()


def test_the_method_defaults_fill_what_was_not_given():
    seed = PruneConfig.from_options("seed", per_step=16)
    assert (seed.steps, seed.round_to, seed.regularization.grouping) == (5, 1, "feature")
    assert seed.target() == Target("count", 16)
    obd = PruneConfig("obd", target_macs=0.25)  # the nested form fills its families the same way
    assert (obd.steps, obd.round_to, obd.scoring, obd.regularization) == (1, 8, OBDOptions(), None)
    assert PruneConfig.from_options("obd", target_macs=0.25) == obd


@pytest.mark.parametrize("method,kw,message", [
    ("magnitude", {"fisher": "exact"}, "fisher does not apply to method 'magnitude' (criterion magnitude): it is used "
                                       "only by obd, reg+obd, obd+reg"),
    ("obd", {"norm": "l2"}, "norm does not apply to method 'obd' (criterion obd): it is used only by magnitude"),
    ("taylor", {"lam": 0.1}, "lam does not apply to method 'taylor': it is used only by methods with regularized "
                             "training (reg+obd, reg+taylor, obd+reg, seed)"),
    ("random", {"samples": 64}, "samples does not apply to method 'random' (criterion random): it is used only by "
                                "taylor, taylor-seed, taylor-weight, obd, reg+obd, reg+taylor, obd+reg, seed"),
    ("obd", {"bogus": 1}, "unknown pruning option bogus"),
    ("obd", {"fisher": "nope"}, "fisher must be one of sampled, exact, empirical, hutchinson, got 'nope'"),
    ("obd", {"steps": 0}, "steps must be an integer >= 1, got 0"),
    ("obd", {"per_step": 4}, "per_step and ratio exclude each other"),
    ("magnitude", {"ratio": None, "target_speedup": 3.0, "round_to": 8},
     "round_to does not apply to a speedup target: widths land where the runtime's measured latency drops"),
    ("magnitude", {"latency_weight": 1.0}, "latency_weight applies to a speedup or latency target only: a MACs "
                                           "target's plan does not time its layers"),
    ("magnitude", {"ratio": None, "target_speedup": 3.0, "latency_weight": 2},
     "latency_weight must be a number from 0 to 1, got 2"),
])
def test_each_inapplicable_or_bad_option_is_one_error_naming_it(method, kw, message):
    with pytest.raises(ConfigError) as e:
        PruneConfig.from_options(method, **{"ratio": 0.5, **kw})
    assert e.value.message == message
    assert set(e.value.params) & set(kw)  # the parameter is listed, so the CLI can show its flag


def test_nested_families_must_be_the_methods():
    with pytest.raises(ConfigError, match="scoring is OBDOptions, but criterion magnitude of method 'magnitude' "
                                          "takes MagnitudeOptions"):
        PruneConfig("magnitude", ratio=0.5, scoring=OBDOptions())
    with pytest.raises(ConfigError, match="regularization does not apply to method 'obd'"):
        PruneConfig("obd", ratio=0.5, regularization=RegOptions())
    with pytest.raises(ConfigError, match="unknown ScheduleOptions option scop"):
        ScheduleOptions.from_dict({"scop": "global"})


def test_the_cli_shows_the_flag_of_each_refused_parameter():
    from edgeprune.cli import build_parser, flag_names

    parser = build_parser()
    prune_parser = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["prune"]
    names = flag_names(prune_parser)
    for method, kw, flag in [("magnitude", {"fisher": "exact"}, "--fisher"), ("magnitude", {"lam": 0.1}, "--reg-lambda"),
                             ("obd", {"norm": "l2"}, "--norm"), ("seed", {"per_step": 0}, "--per-step"),
                             ("obd", {"round_to": 0}, "--round-to"), ("reg+obd", {"reg_epochs": -1}, "--reg-epochs")]:
        with pytest.raises(ConfigError) as e:
            PruneConfig.from_options(method, **({} if "per_step" in kw else {"ratio": 0.5}), **kw)
        message, _ = e.value.in_terms_of(names)
        assert message.startswith(flag), message


def test_cli_defaults_and_choices_are_the_configs():
    from edgeprune.cli import build_parser
    from edgeprune.pruning.config import FISHER_MODES, GROUPINGS, NORMS, SCOPES

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    by_dest = {a.dest: a for a in sub.choices["prune"]._actions}
    assert tuple(by_dest["fisher"].choices) == FISHER_MODES and tuple(by_dest["norm"].choices) == NORMS
    assert tuple(by_dest["grouping"].choices) == GROUPINGS and tuple(by_dest["scope"].choices) == SCOPES
    assert by_dest["scope"].default == ScheduleOptions().scope
    assert by_dest["min_channels"].default == ScheduleOptions().min_channels
    assert all(m in by_dest["method"].help for m in METHODS)


def test_fit_and_prune_take_the_same_arguments_in_the_same_places():
    import edgeprune.api as api
    import edgeprune.pruning.methods as methods
    import edgeprune.train as train
    import edgeprune.train_run as train_run

    def shape(fn):
        ps = inspect.signature(fn).parameters.values()
        return ([p.name for p in ps if p.kind is p.POSITIONAL_OR_KEYWORD],
                {p.name for p in ps if p.kind is p.KEYWORD_ONLY})

    for fn in (api.fit, train_run.fit, train.fit):
        positional, keyword = shape(fn)
        assert positional[1:] == ["data", "config"] and {"out", "regularizer"} <= keyword
    for fn in (api.prune, methods.prune):
        positional, keyword = shape(fn)
        assert positional[1:] == ["config", "data"] and "out" in keyword
