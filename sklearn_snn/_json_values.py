"""Plain JSON values of a model file, written and read back with checks.

A model file may come from anyone, so every value read from its metadata is
checked for type and range here, and a value that is not what ``save``
writes raises a ValueError that names it. Arrays are stored as
``{"dtype": ..., "values": [...]}``.
"""

import json
import math

import numpy as np

#: Label dtypes that JSON lists round-trip: bool, int, uint, float, str, object.
_LABEL_KINDS = "biufUO"

#: The most memory that one array of the metadata may take once read. An
#: array of numbers takes at most 4 bytes per byte of its JSON (``0,`` for an
#: 8-byte number), so this admits every array that the largest metadata
#: ``load`` reads (8 MiB) can hold, while a dtype such as ``<U1000000000``
#: cannot make a short list allocate gigabytes.
MAX_ARRAY_BYTES = 32 << 20

#: JSON values that are plain scalars: what labels and pair keys may be.
PLAIN_SCALARS = (str, int, float)


def scalar(value):
    """Return a numpy scalar as the Python number it holds; other values as they are."""
    return value.item() if isinstance(value, np.generic) else value


def checked_int(value, what, minimum=0):
    """Return ``value`` if it is a JSON integer of at least ``minimum``.

    Parameters
    ----------
    value : object
        A value read from JSON.
    what : str
        Its name, for the error message.
    minimum : int, default=0
        The smallest value allowed.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``value`` is not an integer (a bool, a float and a string are not),
        or is below ``minimum``.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} is {describe(value)}, not an integer")
    if value < minimum:
        raise ValueError(f"{what} is {value}, less than {minimum}")
    return value


def checked_number(value, what, finite=True):
    """Return ``value`` as a float if it is a JSON number (finite by default).

    Parameters
    ----------
    value : object
        A value read from JSON.
    what : str
        Its name, for the error message.
    finite : bool, default=True
        Whether nan and infinities are refused.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``value`` is not a number (a bool and a string are not), is too
        large for a float, or is not finite when ``finite`` is True.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"{what} is {describe(value)}, not a number")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{what} is an integer too large for a float") from None
    if finite and not math.isfinite(number):
        raise ValueError(f"{what} is {number}, not a finite number")
    return number


def describe(value):
    """Describe a JSON value briefly, for error messages."""
    names = {dict: "a JSON object", list: "a JSON list", str: "a string"}
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, (int, float)):
        return f"the number {short_repr(value)}"
    return f"{names.get(type(value), type(value).__name__)} {short_repr(value)}"


def short_repr(value, limit=60):
    """Return ``repr(value)``, cut to ``limit`` characters."""
    try:
        text = repr(value)
    except ValueError:  # an int with more digits than Python converts
        text = "a very large integer"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def array_to_json(array):
    """Return a 1-D array as ``{"dtype": ..., "values": [...]}``, for JSON."""
    array = np.asarray(array)
    if array.dtype.kind not in _LABEL_KINDS:
        raise TypeError(f"Arrays of dtype {array.dtype} cannot be stored as JSON.")
    values = array.tolist()
    try:
        json.dumps(values)
    except TypeError as exc:
        raise TypeError(f"Values cannot be stored as JSON: {exc}") from exc
    return {"dtype": array.dtype.str, "values": values}


def array_from_json(stored, what, kinds=_LABEL_KINDS, exact=True):
    """Return the 1-D array that :func:`array_to_json` stored, checked.

    Every value must be a JSON scalar of the dtype's kind (a string for a
    string dtype, a number for a numeric one); a list, an object or null
    among the values, a dtype of another kind than ``kinds``, or an array
    larger than ``MAX_ARRAY_BYTES`` is refused. With ``exact``, so is a value
    that the dtype would change (a string cut to the dtype's width, a float
    rounded to an int).
    """
    if not isinstance(stored, dict) or set(stored) != {"dtype", "values"}:
        raise ValueError(
            f"{what} is {describe(stored)}, not an array stored as "
            "{'dtype': ..., 'values': [...]}"
        )
    name, values = stored["dtype"], stored["values"]
    if not isinstance(name, str):
        raise ValueError(f"{what} has dtype {describe(name)}, not a dtype name")
    try:
        dtype = np.dtype(name)
    except (TypeError, ValueError):
        raise ValueError(f"{what} has dtype {short_repr(name)}, not a dtype") from None
    if dtype.kind not in kinds:
        raise ValueError(f"{what} has the unsupported dtype {dtype}")
    if not isinstance(values, list):
        raise ValueError(f"{what} values are {describe(values)}, not a JSON list")
    if len(values) * dtype.itemsize > MAX_ARRAY_BYTES:
        raise ValueError(
            f"{what} would take {len(values) * dtype.itemsize} bytes as {dtype}, "
            f"more than the {MAX_ARRAY_BYTES} that an array of a model file may"
        )
    types = _VALUE_TYPES[dtype.kind]
    for value in values:
        if not isinstance(value, types) or (
            isinstance(value, bool) and dtype.kind not in "bO"
        ):
            raise ValueError(
                f"{what} holds {describe(value)}; its values must be "
                f"{_VALUE_NAMES[dtype.kind]}"
            )
    try:
        array = np.array(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} values do not fit its dtype {dtype}") from None
    if exact and array.tolist() != values:
        raise ValueError(f"{what} values change when stored as {dtype}")
    return array


#: The JSON values that an array of each dtype kind holds, and their names.
_VALUE_TYPES = {
    "b": bool,
    "i": int,
    "u": int,
    "f": (int, float),
    "U": str,
    "O": PLAIN_SCALARS,
}
_VALUE_NAMES = {
    "b": "booleans",
    "i": "integers",
    "u": "integers",
    "f": "numbers",
    "U": "strings",
    "O": "numbers or strings",
}
