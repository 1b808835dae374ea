"""Resource quantities as k8s.io/apimachinery/pkg/api/resource stores them: ``canonical("1000m") == "1"``,
``canonical("1024Mi") == "1Gi"``, ``canonical(0.5) == "500m"``, ``canonical("1.5Gi") == "1536Mi"``.

The format follows the suffix (binary ``Ki..Ei``, decimal SI ``n..E``, or an ``e`` exponent); the
value is kept to nano precision (rounded up, as ParseQuantity does); the canonical text is the
largest unit that keeps the number an integer (exponents in steps of 3, or powers of 1024 for
binary values of at least 1Ki).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

PATTERN = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_RE = re.compile(PATTERN)
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {v: k for k, v in _DECIMAL.items()}
_BINARY_SUFFIX = {0: ""} | {v // 10: k for k, v in _BINARY.items()}
ERROR = f"quantities must match the regular expression '{PATTERN}'"


def parse(text: str | int | float) -> tuple[Fraction, str]:
    """(value, format) with format "BinarySI", "DecimalSI" or "DecimalExponent"; ValueError otherwise."""
    if isinstance(text, bool):
        raise ValueError(ERROR)
    if isinstance(text, (int, float)):
        text = str(text) if isinstance(text, int) else repr(text)
        if "e" in text and "." not in text.split("e")[0]:
            text = text  # 1e+20 style: handled by the exponent branch
    text = text.strip()
    m = _RE.match(text)
    if not m or m.group(1) in ("", ".", "+", "-") or m.group(1).count(".") > 1:
        raise ValueError(ERROR)
    number, suffix = m.group(1), m.group(2)
    try:
        value = Fraction(number)
    except ValueError:
        raise ValueError(ERROR) from None
    if suffix in _BINARY:
        value *= 2 ** _BINARY[suffix]
        fmt = "BinarySI"
    elif suffix in _DECIMAL:
        value *= Fraction(10) ** _DECIMAL[suffix]
        fmt = "DecimalSI"
    elif re.fullmatch(r"[eE][-+]?[0-9]+", suffix):
        value *= Fraction(10) ** int(suffix[1:])
        fmt = "DecimalExponent"
    else:
        raise ValueError("unable to parse quantity's suffix")
    # Precision is nano units, rounded up (away from zero).
    scaled = value * 10**9
    if scaled.denominator != 1:
        scaled = Fraction(math.ceil(scaled) if scaled > 0 else math.floor(scaled))
        value = scaled / 10**9
    return value, fmt


def canonical(text: str | int | float) -> str:
    value, fmt = parse(text)
    if value == 0:
        return "0"
    if fmt == "BinarySI" and (-1024 < value < 1024 or value.denominator != 1):
        fmt = "DecimalSI"
    if fmt == "BinarySI":
        n, power = int(value), 0
        while power < 6 and n % 1024 == 0:
            n //= 1024
            power += 1
        return f"{n}{_BINARY_SUFFIX[power]}"
    # value = mantissa * 10**exponent, mantissa an integer without trailing zeros
    exponent = 0
    while value.denominator != 1:
        value *= 10
        exponent -= 1
    mantissa = int(value)
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    shift = exponent % 3
    mantissa *= 10**shift
    exponent -= shift
    if fmt == "DecimalExponent":
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    if exponent in _DECIMAL_SUFFIX:
        return f"{mantissa}{_DECIMAL_SUFFIX[exponent]}"
    return f"{mantissa}e{exponent}"
