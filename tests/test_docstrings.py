"""numpydoc validation of the public API's docstrings against the signatures."""

import inspect
import pydoc

import numpydoc.validate as numpydoc_validate
import pytest

#: Every public object, and the public methods that the package defines itself
#: (methods inherited from scikit-learn, such as ``score``, ``get_params`` and
#: ``set_params``, carry scikit-learn's docstrings and are not checked here).
PUBLIC_OBJECTS = [
    "sklearn_snn.SNNClassifier",
    "sklearn_snn.SNNClassifier.fit",
    "sklearn_snn.SNNClassifier.predict",
    "sklearn_snn.SNNClassifier.predict_proba",
    "sklearn_snn.SNNClassifier.partial_fit",
    "sklearn_snn.SNNRegressor",
    "sklearn_snn.SNNRegressor.fit",
    "sklearn_snn.SNNRegressor.predict",
    "sklearn_snn.SNNRegressor.partial_fit",
    "sklearn_snn.save",
    "sklearn_snn.load",
    "sklearn_snn.diagnostics.activation_stats",
    "sklearn_snn.diagnostics.ActivationStats",
]

#: Objects that must have the full set of sections: summary, extended
#: summary, See Also, References (where they describe the method) and a
#: doctest example.
TOP_LEVEL = {
    "sklearn_snn.SNNClassifier",
    "sklearn_snn.SNNRegressor",
    "sklearn_snn.diagnostics.activation_stats",
    "sklearn_snn.diagnostics.ActivationStats",
}

#: numpydoc error codes not enforced, with the reason.
IGNORED = {
    # ``fit`` returns ``self : object``, scikit-learn's convention, which names
    # the returned value on the type line.
    "RT02",
}

#: Codes not enforced on methods only: their class page carries the extended
#: description, the cross references and the runnable example.
IGNORED_FOR_METHODS = {"ES01", "SA01", "EX01"}


@pytest.mark.parametrize("name", PUBLIC_OBJECTS)
def test_docstring_is_valid_numpydoc(name):
    ignored = IGNORED if name in TOP_LEVEL else IGNORED | IGNORED_FOR_METHODS
    result = numpydoc_validate.validate(name)
    errors = [
        f"{code}: {message}"
        for code, message in result["errors"]
        if code not in ignored
    ]
    assert not errors, f"{name}:\n" + "\n".join(errors)


@pytest.mark.parametrize(
    "name", sorted(TOP_LEVEL - {"sklearn_snn.diagnostics.ActivationStats"})
)
def test_top_level_docstrings_cite_the_snn_paper(name):
    result = numpydoc_validate.validate(name)
    assert "Self-Normalizing Neural Networks" in result["docstring"]


@pytest.mark.parametrize(
    "name", ["sklearn_snn.SNNClassifier", "sklearn_snn.SNNRegressor"]
)
def test_every_parameter_has_a_documented_default(name):
    result = numpydoc_validate.validate(name)
    doc = result["docstring"]
    obj = pydoc.locate(name)
    for param in inspect.signature(obj).parameters:
        line = next(
            (ln for ln in doc.splitlines() if ln.strip().startswith(f"{param} :")),
            None,
        )
        assert line is not None, f"{param} is not documented"
        assert "default=" in line, f"{param} has no default in {line!r}"


def test_all_public_names_are_checked():
    import sklearn_snn
    from sklearn_snn import diagnostics

    names = {f"sklearn_snn.{n}" for n in sklearn_snn.__all__ if n != "__version__"}
    names |= {f"sklearn_snn.diagnostics.{n}" for n in diagnostics.__all__}
    assert names <= set(PUBLIC_OBJECTS)


@pytest.mark.parametrize(
    "name", ["sklearn_snn.SNNClassifier", "sklearn_snn.SNNRegressor"]
)
def test_documented_defaults_are_the_signatures(name):
    doc = numpydoc_validate.validate(name)["docstring"]
    for param, parameter in inspect.signature(pydoc.locate(name)).parameters.items():
        line = next(ln for ln in doc.splitlines() if ln.startswith(f"{param} :"))
        documented = line.split("default=", 1)[1].strip()
        assert documented == repr(parameter.default), f"{param}: {line!r}"
