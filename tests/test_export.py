"""Result documents: exact round trips through .json and .npz, validation of bad files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import actfit.export.readers as readers
import actfit.export.table as table
from actfit.errors import FileFormatError, OutputPathError, UnknownTargetError
from actfit.export import dumps, from_document, load, save, to_document
from actfit.export.delivery import PadeDelivery, pade_delivery
from actfit.export.document import (
    TABLES_SCHEMA,
    TABLES_SCHEMA_VERSION,
    fits_from_document,
    tables_document,
)
from actfit.export.names import activation_name, activation_target, describe, target_label
from actfit.fit import Certificate, make_fit
from actfit.rational import FORMS, Rational
from actfit.targets import get_target

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def _fit(num, den, form, target="swish", params=None, certificate=None):
    return make_fit(
        get_target(target, params),
        Rational(num, den, form),
        method="lsq",
        settings={"weight": "uniform", "starts": ("sk", "pade"), "note": None},
        range=(-3.0, 3.0),
        allow_poles=True,
        certificate=certificate,
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    num=st.lists(finite, min_size=1, max_size=6),
    den=st.lists(finite.map(lambda v: v / 1e6), max_size=5),
    form=st.sampled_from(FORMS),
    suffix=st.sampled_from([".json", ".npz"]),
)
def test_round_trip_is_exact(tmp_path: Path, num, den, form, suffix) -> None:
    fit = _fit(num, den, form)
    path = save(fit, tmp_path / f"fit{suffix}")
    assert load(path) == fit
    assert from_document(json.loads(json.dumps(to_document(fit)))) == fit


def test_round_trip_with_certificate_and_params(tmp_path: Path) -> None:
    cert = Certificate("global", upper=1e-3, lower=0.99e-3, gap=0.01, detail="dlVP", points=(0.5,))
    fit = _fit([0.0, 1.0], [0.1], "safe", "leaky_relu", {"slope": 0.2}, cert)
    for suffix in (".json", ".npz"):
        assert load(save(fit, tmp_path / f"f{suffix}")) == fit


def test_document_keys() -> None:
    doc = to_document(_fit([0.0, 1.0, 0.2], [0.1, 0.3], "abs"))
    for key in ("schema", "schema_version", "actfit_version", "target", "method", "settings",
                "order", "range", "form", "numerator", "denominator", "errors", "poles",
                "certificate", "provenance"):
        assert key in doc
    assert doc["order"] == [2, 2] and doc["form"] == "abs"
    assert doc["poles"]["pole_free"] is True


def test_infinite_errors_are_strict_json(tmp_path: Path) -> None:
    # A plain table with a pole on the range has an infinite max error: still strict JSON.
    fit = _fit([1.0], [-0.5], "plain")
    text = (save(fit, tmp_path / "p.json")).read_text()
    assert "Infinity" not in text and "NaN" not in text
    back = load(tmp_path / "p.json")
    assert back.poles.poles_on_range == (2.0,)
    assert np.isinf(back.errors.max_abs)


def _corrupt(tmp_path: Path, mutate) -> Path:
    doc = to_document(_fit([0.0, 1.0], [0.5], "plain"))
    mutate(doc)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    return p


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d.pop("numerator"), "missing key"),
        (lambda d: d.update(order=[3, 1]), "does not match"),
        (lambda d: d.update(numerator=[0.0, "x"]), "list of numbers"),
        (lambda d: d.update(range=[3, -3]), "a < b"),
        (lambda d: d.update(form="Q"), "unknown denominator form"),
        (lambda d: d.update(schema="other"), "schema"),
        (lambda d: d.update(schema_version=99), "upgrade actfit"),
        (lambda d: d["poles"].update(poles_on_real_line=[]), "disagree"),
        (lambda d: d.update(target={"name": "gelo", "params": {}}), "gelo"),
    ],
)
def test_bad_documents_are_refused(tmp_path: Path, mutate, match) -> None:
    with pytest.raises(FileFormatError, match=match):
        load(_corrupt(tmp_path, mutate))


def test_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json")
    (tmp_path / "x.npz").write_bytes(b"PK\x03\x04garbage")
    for name in ("x.json", "x.npz", "missing.json"):
        with pytest.raises(FileFormatError):
            load(tmp_path / name)


def test_output_paths(tmp_path: Path) -> None:
    fit = _fit([0.0, 1.0], [], "safe")
    with pytest.raises(OutputPathError, match="does not exist"):
        save(fit, tmp_path / "nope" / "f.json")
    with pytest.raises(OutputPathError, match="unknown suffix"):
        save(fit, tmp_path / "f.csv")
    assert list(tmp_path.iterdir()) == []


def test_dumps_is_strict_and_one_format() -> None:
    doc = to_document(_fit([0.5, 1.0], [0.25], "safe"))
    text = dumps(doc)
    assert text.endswith("}\n") and json.loads(text) == doc
    assert text == json.dumps(doc, indent=2) + "\n"
    compact = dumps(doc, indent=None)
    assert "\n" not in compact[:-1] and json.loads(compact) == doc
    with pytest.raises(ValueError):
        dumps({"x": float("nan")})


def test_tables_document_round_trip_and_versions() -> None:
    fits = [_fit([0.0, 1.0], [0.5], "abs"), _fit([1.0, 2.0, 3.0], [], "plain")]
    doc = tables_document(fits)
    assert (doc["schema"], doc["schema_version"]) == (TABLES_SCHEMA, TABLES_SCHEMA_VERSION)
    assert fits_from_document(json.loads(dumps(doc))) == fits
    assert fits_from_document(to_document(fits[0])) == fits[:1]  # a single-fit document
    for bad, match in [
        ({**doc, "schema_version": TABLES_SCHEMA_VERSION + 1}, "upgrade actfit"),
        ({**doc, "schema_version": True}, "not supported"),
        ({**doc, "schema": "other"}, "expected 'actfit.tables'"),
        ({**doc, "fits": {}}, "must be a list"),
        ({**doc, "fits": [{"schema": "actfit.fit"}]}, r"fits\[0\]"),
    ]:
        with pytest.raises(FileFormatError, match=match):
            fits_from_document(bad, "t.json")


def test_old_import_paths_are_the_new_objects() -> None:
    # readers/table re-export what moved, so callers that import them there keep working.
    assert readers.activation_name is activation_name
    assert readers.activation_target is activation_target
    assert readers.target_label is target_label
    assert readers.describe is describe
    assert table.fits_from_document is fits_from_document
    assert table.tables_document is tables_document
    assert table.TABLES_SCHEMA == TABLES_SCHEMA


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(["relu", "gelu", "tanh", "swish", "elu", "softplus"]),
    value=st.floats(min_value=0.05, max_value=4.0),
)
def test_activation_name_round_trips(name: str, value: float) -> None:
    base = get_target(name)
    params = {k: value for k in base.param_dict}
    t = get_target(name, params)
    assert activation_target(activation_name(t)) == t
    # The label is for people: it names the target and every parameter.
    label = target_label(t)
    assert label.startswith(name) and all(k in label for k in params)


def test_labels_of_expressions_and_fits() -> None:
    t = activation_target("erfc_Softplus_2")
    assert t.name == "expr" and target_label(t) == activation_name(t) == t.expression
    fit = _fit([0.0, 1.0], [0.5], "abs", target="leaky_relu", params={"slope": 0.2})
    assert describe(fit) == "leaky_relu(slope=0.2) [1,1] abs lsq"
    with pytest.raises(UnknownTargetError, match="--target"):
        activation_target("not_an_activation(")


def test_pade_delivery_reads_the_settings() -> None:
    fit = _fit([0.0, 1.0], [], "plain")
    assert pade_delivery(fit) is None  # not a Padé fit
    pade = dataclasses.replace(
        fit,
        method="pade",
        settings={
            "requested": [2, 1],
            "delivered": [1, 0],
            "lowered": True,
            "reasons": ["shared factor x"],
            "exact": {"numerator": ["0", "1"], "denominator": []},
        },
    )
    d = pade_delivery(pade)
    assert d == PadeDelivery((2, 1), (1, 0), ("shared factor x",), ("0", "1"), ())
    assert d.lowered
    same = dataclasses.replace(pade, settings={"requested": [1, 0], "delivered": [1, 0]})
    d = pade_delivery(same)
    assert d is not None and not d.lowered and d.exact_numerator is None


def test_fit_is_callable_has_to_dict_and_equality_ignores_provenance(tmp_path) -> None:
    import dataclasses

    from actfit import fit_lsq
    from actfit.export import to_document

    fit = fit_lsq("tanh", (3, 2), (-2, 2))
    x = np.linspace(-2, 2, 7)
    np.testing.assert_array_equal(fit(x), fit.rational(x))
    doc = to_document(fit)
    assert {k: v for k, v in doc.items() if k not in ("schema", "schema_version")} == fit.to_dict()
    later = dataclasses.replace(fit, provenance={**fit.provenance, "created": "2999-01-01"})
    assert later == fit  # the creation time is not part of what a fit is
    assert dataclasses.replace(fit, method="other") != fit
