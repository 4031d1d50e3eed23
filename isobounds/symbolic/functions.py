r"""The Gaussian functions of isoperimetry as sympy functions.

:class:`phi`, :class:`Phi`, :class:`Phi_inv`, :class:`isoperimetric_profile`
(alias ``I``), :class:`gaussian_mass` and :class:`kl_bin` are ``sympy.Function`` subclasses: they stay
unevaluated on symbols, know their derivatives, print in LaTeX with the
field's notation (:math:`\varphi`, :math:`\Phi`, :math:`\Phi^{-1}`,
:math:`\mathcal{I}`, :math:`\operatorname{kl}`), evaluate numerically through
the mpmath kernels of :mod:`isobounds.symbolic._mp` at any precision, and
``sympy.lambdify`` turns them into mpmath or float64 numpy code.

Numerical evaluation keeps the tails: ``Phi(-40).evalf(50)`` is about
``3.66e-350``, and ``Phi_inv(p)`` for ``p`` near 1 is computed from the exact
complement ``1 - p`` of the sympy argument, so ``Phi_inv(1 - 10**-60)`` keeps
its digits at 50-digit precision. :class:`gaussian_mass` stands for the
difference :math:`\Phi(b) - \Phi(a)` and evaluates it from the width
``b - a``, so ``gaussian_mass(0, 10**-300)`` keeps its digits where
``Phi(10**-300) - 1/2`` cancels 300 of them.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import mpmath
import sympy
from sympy import S
from sympy.core.evalf import PrecisionExhausted, prec_to_dps
from sympy.core.logic import fuzzy_and

from .._precision import exact_one_minus, workprec
from . import _mp

__all__ = [
    "phi",
    "Phi",
    "Phi_inv",
    "isoperimetric_profile",
    "gaussian_mass",
    "kl_bin",
    "rewrite_with_erf",
]

_GUARD_BITS = 24
_EXTRA_DIGITS_FOR_CANCELLATION = 2000
_MP_MODULE = "isobounds.symbolic._mp"
_NP_MODULE = "isobounds.symbolic._np"


def _real_value(expr, prec, strict=False):
    """Evaluate the real number ``expr`` to ``prec`` bits and return an mpf, or None for a non-number.

    Sums are evaluated by sympy's adaptive ``evalf``, which raises its working
    precision until cancellation is resolved, so ``1 - p`` keeps its digits
    when ``p`` is an exact number close to 1. Where that fails, the value is
    0, or with ``strict`` PrecisionExhausted is raised.
    """
    if not expr.is_number:
        return None
    if expr.is_infinite:
        return mpmath.inf if expr.is_extended_positive else mpmath.ninf
    digits = prec_to_dps(prec) + 2
    try:
        value = expr.evalf(digits, maxn=digits + _EXTRA_DIGITS_FOR_CANCELLATION, strict=strict or not expr.is_Number)
    except (PrecisionExhausted, ValueError) as error:
        # sympy prints the expression into the PrecisionExhausted message, and for a rational of
        # more than 4300 digits Python's limit on int-to-str conversion raises ValueError first.
        if isinstance(error, ValueError) and "integer string conversion" not in str(error):
            raise
        if strict and isinstance(error, PrecisionExhausted):
            raise
        if strict:
            raise PrecisionExhausted(f"could not separate the value from 0 within {digits} digits") from error
        # NOTE: sympy could not separate the value from 0 within maxn digits, so
        # it is 0 to within 10**-maxn of its terms, as for p - 1/2 with
        # p = Phi(-3)/2 + Phi(3)/2; 0 is returned as that value.
        return mpmath.mpf(0)
    if not value.is_extended_real:
        raise TypeError(f"expected a real number, got {expr} = {value}")
    return value._to_mpmath(prec)


def _magnitude_bits(x):
    """Return twice the bit length of ``|x|``: ``Phi(x)`` and ``phi(x)`` amplify a relative error of ``x`` about ``x**2`` times."""
    if not mpmath.isfinite(x):
        return 0
    return 2 * int(abs(x)).bit_length()


def _endpoint_bits(x, other, prec):
    """Return the guard bits that the end ``x`` of the interval between ``x`` and ``other`` needs in its Gaussian mass.

    An error ``dx`` of ``x`` moves the mass by about ``phi(x) dx``, and a
    relative error ``2^-prec`` of ``x`` makes that ``|x| phi(x) 2^-prec``.
    That is below ``2^-prec`` of the mass, and ``x`` needs no guard bits,
    when ``x`` lies far in the tail beyond ``other``: the mass is then at
    least half the tail beyond ``max(other, 0)`` on the far side, mirrored
    as needed. Otherwise ``x`` needs :func:`_magnitude_bits`. So
    ``Phi(10**300)``, exactly 1 at any precision, is evaluated without the
    2000 guard bits that ``Phi(-10**300)`` needs. ``other`` is ``-inf`` for
    ``Phi(x)``.
    """
    bits = _magnitude_bits(x)
    if bits == 0:
        return 0
    if x < other:
        x, other = -x, -other
    if x <= 0:
        return bits
    with workprec(53):
        near = max(other, mpmath.mpf(0))
        if x < near + 1:
            return bits
        log2_step = mpmath.log(x, 2) - x**2 / (2 * mpmath.log(2)) - mpmath.log(mpmath.sqrt(2 * mpmath.pi), 2)
        log2_mass = mpmath.log(_mp.normal_cdf(-near), 2) - 1
        return 0 if log2_step < log2_mass - prec - _GUARD_BITS else bits


def _guarded_argument(expr, prec, capped=False):
    """Evaluate the argument of ``phi`` or ``Phi`` with the guard bits it needs; return it and that precision.

    ``capped`` is for ``Phi``, whose value does not depend on the digits of a
    large positive argument (see :func:`_endpoint_bits`).
    """
    x = _real_value(expr, prec + _GUARD_BITS)
    extra = _endpoint_bits(x, mpmath.ninf, prec) if capped else _magnitude_bits(x)
    needed = prec + _GUARD_BITS + extra
    if needed > prec + _GUARD_BITS:
        x = _real_value(expr, needed)
    return x, needed


_MAX_SHOWN_CHARACTERS = 200
_SHOWN_DIGITS = 15


def parse_number(name, text):
    """Parse a decimal or fraction string such as ``"1e-300"``, ``"0.25"`` or ``"1/3"`` as an exact sympy number.

    ``"inf"`` and ``"-inf"`` (or ``"infinity"``) give ``sympy.oo`` and
    ``-sympy.oo``. Any other string, including a fraction with denominator 0,
    raises ValueError naming the argument ``name``.
    """
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered.lstrip("+") in ("inf", "infinity"):
        return S.Infinity
    if lowered in ("-inf", "-infinity"):
        return S.NegativeInfinity
    try:
        return sympy.Rational(stripped)
    except ZeroDivisionError:
        raise ValueError(f"{name} must be a decimal number such as '0.25' or '1e-300', got the string "
                         f"{name}={text!r}, a fraction with denominator 0") from None
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a decimal number such as '0.25' or '1e-300', got the string {name}={text!r}; "
            "pass symbols as sympy.Symbol"
        ) from None


def shown(expr):
    """Return ``expr`` as text for an error message, rounded to 15 digits where its exact form is too long.

    ``str`` of a rational such as ``1 + 10**-5000`` has thousands of digits,
    and beyond 4300 digits Python raises ValueError instead of converting them.
    Such a number is shown as ``1 + 1.00000000000000e-5000``: the nearest
    small integer and the rounded rest, or the rounded value.
    """
    try:
        text = str(expr)
    except ValueError:
        # Python's limit on the digits of an int-to-str conversion.
        text = None
    if text is not None and len(text) <= _MAX_SHOWN_CHARACTERS:
        return text
    if not (isinstance(expr, sympy.Expr) and expr.is_number):
        return f"{type(expr).__name__} too long to show"
    if expr.is_Rational:
        nearest = sympy.floor(expr + S.Half)
        rest = expr - nearest
        if nearest != 0 and abs(nearest) < 2**64:
            sign = "-" if rest < 0 else "+"
            return f"{nearest} {sign} {sympy.Float(abs(rest), _SHOWN_DIGITS)} (rounded)"
    return f"{expr.evalf(_SHOWN_DIGITS)} (rounded)"


def assumption_reason(expr, facts):
    """Return ``", which the assumptions on its symbols make negative"`` for the first true fact, or ``""``.

    ``facts`` are pairs of a test on ``expr``, such as ``x.is_extended_negative``,
    and the words for it. A number gets ``""``, because its value in the
    message shows why it is out of range.
    """
    if not isinstance(expr, sympy.Expr) or expr.is_number:
        return ""
    for fact, words in facts:
        if fact(expr):
            return f", which the assumptions on its symbols make {words}"
    return ""


_PROBABILITY_FACTS = (
    (lambda p: p.is_extended_negative, "negative"),
    (lambda p: (p - 1).is_extended_positive, "greater than 1"),
)


def _check_real_argument(name, x):
    """Raise unless ``x`` is a sympy expression that may be real: TypeError for other objects, ValueError for NaN or a non-real value."""
    if not isinstance(x, sympy.Expr) or getattr(x, "is_Matrix", False):
        raise TypeError(f"{name} must be a real number or a scalar sympy expression, got {name}={x!r} of type "
                        f"{type(x).__name__}")
    if x is S.NaN or x.is_extended_real is False:
        raise ValueError(f"{name} must be real, got {name}={shown(x)}")


def _check_probability(name, p):
    """Raise unless ``p`` may lie in [0, 1]: a number outside it, or a symbol whose assumptions exclude it, raises ValueError."""
    _check_real_argument(name, p)
    if p.is_extended_negative or (p - 1).is_extended_positive:
        raise ValueError(f"{name} must be a probability in [0, 1], got {name}={shown(p)}"
                         f"{assumption_reason(p, _PROBABILITY_FACTS)}")


class _KernelFunction(sympy.Function):
    """Base of the functions that print to a kernel of :mod:`._mp` (mpmath) or :mod:`._np` (numpy)."""

    _kernel_name = None
    _latex_name = None
    _argument_names = ()

    def __new__(cls, *args, **options):
        # Strings are parsed as exact decimals, as the bound functions parse
        # them, not by sympify, which makes "abc" a Symbol and "0.1" a
        # 15-digit Float.
        parsed = [
            parse_number(cls._argument_names[index] if index < len(cls._argument_names) else "argument", argument)
            if isinstance(argument, str) else argument
            for index, argument in enumerate(args)
        ]
        return super().__new__(cls, *parsed, **options)

    def _print_kernel(self, printer, module):
        name = printer._module_format(f"{module}.{self._kernel_name}")
        arguments = ", ".join(printer._print(argument) for argument in self.args)
        return f"{name}({arguments})"

    def _mpmathcode(self, printer):
        return self._print_kernel(printer, _MP_MODULE)

    def _numpycode(self, printer):
        return self._print_kernel(printer, _NP_MODULE)

    def _pythoncode(self, printer):
        return self._print_kernel(printer, _NP_MODULE)

    def _latex(self, printer, exp=None):
        arguments = ", ".join(printer._print(argument) for argument in self.args)
        text = rf"{self._latex_name}\left({arguments}\right)"
        return text if exp is None else rf"{{{text}}}^{{{exp}}}"

    def _eval_evalf(self, prec):
        if not all(argument.is_number for argument in self.args):
            return self.func(*(argument._evalf(prec) for argument in self.args))
        return sympy.Float._new(self._evaluate_mpf(prec)._mpf_, prec)

    def _evaluate_mpf(self, prec):
        raise NotImplementedError


class phi(_KernelFunction):
    r"""Standard Gaussian density :math:`\varphi(x) = e^{-x^2/2} / \sqrt{2\pi}`.

    Even (``phi(-x)`` becomes ``phi(x)``), with
    :math:`\varphi'(x) = -x\,\varphi(x)`. ``rewrite(sympy.exp)`` gives the
    closed form.

    Examples
    --------
    >>> from sympy import Symbol
    >>> x = Symbol("x", real=True)
    >>> phi(x).diff(x)
    -x*phi(x)
    """

    _kernel_name = "normal_pdf"
    _argument_names = ("x",)
    _latex_name = r"\varphi"

    @classmethod
    def eval(cls, x):
        _check_real_argument("x", x)
        if x is S.Zero:
            return 1 / sympy.sqrt(2 * S.Pi)
        if x in (S.Infinity, S.NegativeInfinity):
            return S.Zero
        if x.could_extract_minus_sign():
            return cls(-x)
        return None

    def fdiff(self, argindex=1):
        x = self.args[0]
        return -x * phi(x)

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_is_positive(self):
        x = self.args[0]
        if x.is_extended_real and x.is_finite:
            return True
        return None

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sympy.exp(-x**2 / 2) / sympy.sqrt(2 * S.Pi)

    def _evaluate_mpf(self, prec):
        x, needed = _guarded_argument(self.args[0], prec)
        with workprec(needed):
            return _mp.normal_pdf(x)


class Phi(_KernelFunction):
    r"""Standard Gaussian distribution function :math:`\Phi(x) = \int_{-\infty}^x \varphi(t)\,dt`.

    :math:`\Phi' = \varphi`; ``Phi(Phi_inv(p))`` simplifies to ``p``.
    ``rewrite(sympy.erf)`` gives :math:`(1 + \operatorname{erf}(x/\sqrt 2))/2`
    and ``rewrite(sympy.erfc)`` gives :math:`\operatorname{erfc}(-x/\sqrt 2)/2`.
    ``Phi(-x)`` is kept as it is and never replaced by ``1 - Phi(x)``, which
    would cancel in the upper tail.

    Examples
    --------
    >>> Phi(-40).evalf(20)
    3.6558935409150297037e-350
    """

    _kernel_name = "normal_cdf"
    _argument_names = ("x",)
    _latex_name = r"\Phi"

    @classmethod
    def eval(cls, x):
        _check_real_argument("x", x)
        if x is S.Zero:
            return S.Half
        if x is S.Infinity:
            return S.One
        if x is S.NegativeInfinity:
            return S.Zero
        if isinstance(x, Phi_inv):
            return x.args[0]
        return None

    def fdiff(self, argindex=1):
        return phi(self.args[0])

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_is_positive(self):
        x = self.args[0]
        if x.is_extended_real and x.is_finite:
            return True
        return None

    def _eval_rewrite_as_erf(self, x, **kwargs):
        return (1 + sympy.erf(x / sympy.sqrt(2))) / 2

    def _eval_rewrite_as_erfc(self, x, **kwargs):
        return sympy.erfc(-x / sympy.sqrt(2)) / 2

    def _evaluate_mpf(self, prec):
        x, needed = _guarded_argument(self.args[0], prec, capped=True)
        with workprec(needed):
            return _mp.normal_cdf(x)


def _quantile_mpf(p_expr, prec):
    """Return ``Phi_inv(p)`` as an mpf, from ``p``, ``1 - p`` or ``p - 1/2``, whichever keeps the digits.

    The 53-bit value of ``p`` only picks the branch; each branch evaluates
    its own expression to ``prec`` bits, so ``1 - 10**-60`` is not rounded to 1.
    """
    approximate = _real_value(p_expr, 53)
    if not 0 <= approximate <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got p={shown(p_expr)}")
    with workprec(prec):
        if approximate >= 0.75:
            complement = _real_value(S.One - p_expr, prec)
            _check_tail(p_expr, complement)
            return mpmath.inf if complement == 0 else -_mp.lower_quantile(complement)
        if approximate <= 0.25:
            p = _real_value(p_expr, prec)
            _check_tail(p_expr, p)
            return mpmath.ninf if p == 0 else _mp.lower_quantile(p)
        return _mp.central_quantile(_real_value(p_expr - S.Half, prec))


def _check_tail(p_expr, tail):
    if tail < 0:
        raise ValueError(f"p must be a probability in [0, 1], got p={shown(p_expr)}")


class Phi_inv(_KernelFunction):
    r"""Gaussian quantile function :math:`\Phi^{-1}(p)` on :math:`[0, 1]`.

    :math:`\Phi^{-1}(0) = -\infty`, :math:`\Phi^{-1}(1/2) = 0`,
    :math:`\Phi^{-1}(1) = +\infty`, and
    :math:`(\Phi^{-1})'(p) = 1/\varphi(\Phi^{-1}(p)) = 1/\mathcal{I}(p)`.
    ``Phi_inv(Phi(x))`` simplifies to ``x`` for real ``x``.
    ``rewrite(sympy.erfinv)`` gives :math:`\sqrt 2 \operatorname{erfinv}(2p - 1)`.

    Numerical evaluation solves :math:`\Phi(x) = p` by Newton's method on
    :math:`\log\Phi` from the smaller of ``p`` and ``1 - p``, the complement
    being formed from the exact sympy argument.

    Examples
    --------
    >>> from sympy import Rational
    >>> Phi_inv(Rational(1, 10**300)).evalf(20)
    -37.047096299361199237
    """

    _kernel_name = "normal_quantile"
    _argument_names = ("p",)
    _latex_name = r"\Phi^{-1}"

    @classmethod
    def eval(cls, p):
        _check_probability("p", p)
        if p is S.Zero:
            return S.NegativeInfinity
        if p is S.One:
            return S.Infinity
        if p == S.Half:
            return S.Zero
        if isinstance(p, Phi) and p.args[0].is_extended_real:
            return p.args[0]
        return None

    def fdiff(self, argindex=1):
        return 1 / isoperimetric_profile(self.args[0])

    def _eval_rewrite_as_erfinv(self, p, **kwargs):
        return sympy.sqrt(2) * sympy.erfinv(2 * p - 1)

    def _eval_rewrite_as_erfcinv(self, p, **kwargs):
        return -sympy.sqrt(2) * sympy.erfcinv(2 * p)

    def _evaluate_mpf(self, prec):
        return _quantile_mpf(self.args[0], prec + _GUARD_BITS)


class isoperimetric_profile(_KernelFunction):
    r"""Gaussian isoperimetric profile :math:`\mathcal{I}(p) = \varphi(\Phi^{-1}(p))` on :math:`[0, 1]`.

    :math:`\mathcal{I}(0) = \mathcal{I}(1) = 0`,
    :math:`\mathcal{I}(1/2) = 1/\sqrt{2\pi}` (the maximum),
    :math:`\mathcal{I}(p) = \mathcal{I}(1 - p)`,
    :math:`\mathcal{I}'(p) = -\Phi^{-1}(p)` and
    :math:`\mathcal{I}''(p) = -1/\mathcal{I}(p)`.
    ``I(Phi(x))`` simplifies to ``phi(x)`` for real ``x``.
    ``rewrite(phi)`` gives the composition, ``rewrite(sympy.erfinv)`` the
    closed form :math:`e^{-\operatorname{erfinv}(2p-1)^2}/\sqrt{2\pi}`.
    Also available as ``isobounds.symbolic.I``.

    Examples
    --------
    >>> from sympy import Symbol
    >>> p = Symbol("p")
    >>> isoperimetric_profile(p).diff(p, 2)
    -1/isoperimetric_profile(p)
    """

    _kernel_name = "gaussian_isoperimetric_profile"
    _argument_names = ("p",)
    _latex_name = r"\mathcal{I}"

    @classmethod
    def eval(cls, p):
        _check_probability("p", p)
        if p is S.Zero or p is S.One:
            return S.Zero
        if p == S.Half:
            return 1 / sympy.sqrt(2 * S.Pi)
        if isinstance(p, Phi) and p.args[0].is_extended_real:
            return phi(p.args[0])
        return None

    def fdiff(self, argindex=1):
        return -Phi_inv(self.args[0])

    def _eval_is_extended_real(self):
        p = self.args[0]
        if p.is_extended_nonnegative and (1 - p).is_extended_nonnegative:
            return True
        return None

    def _eval_rewrite_as_phi(self, p, **kwargs):
        return phi(Phi_inv(p))

    def _eval_rewrite_as_exp(self, p, **kwargs):
        return sympy.exp(-Phi_inv(p) ** 2 / 2) / sympy.sqrt(2 * S.Pi)

    def _eval_rewrite_as_erfinv(self, p, **kwargs):
        return sympy.exp(-sympy.erfinv(2 * p - 1) ** 2) / sympy.sqrt(2 * S.Pi)

    def _evaluate_mpf(self, prec):
        x = _quantile_mpf(self.args[0], prec + _GUARD_BITS)
        needed = prec + _GUARD_BITS + _magnitude_bits(x)
        if needed > prec + _GUARD_BITS:
            x = _quantile_mpf(self.args[0], needed)
        with workprec(needed):
            return _mp.normal_pdf(x)


def _interval_width(a, b):
    """Return ``b - a`` with its fractions over one denominator, so that equal terms of ``a`` and ``b`` cancel exactly."""
    return sympy.together(b - a)


class gaussian_mass(_KernelFunction):
    r"""Gaussian mass of an interval, :math:`\Phi(b) - \Phi(a) = \int_a^b \varphi(t)\,dt`.

    Negative when ``b < a``. :math:`\partial/\partial a = -\varphi(a)` and
    :math:`\partial/\partial b = \varphi(b)`. ``rewrite(Phi)`` gives the
    difference :math:`\Phi(b) - \Phi(a)` and ``rewrite(sympy.erf)`` gives
    :math:`(\operatorname{erf}(b/\sqrt 2) - \operatorname{erf}(a/\sqrt 2))/2`.
    LaTeX prints the difference, in parentheses.

    Numerical evaluation (``evalf`` and ``lambdify``) takes the width
    ``b - a`` as an expression of its own, in which the terms common to ``a``
    and ``b`` cancel exactly: the mass of ``[Phi_inv(p), Phi_inv(p) + r/L]``
    is computed from ``Phi_inv(p)`` and ``r/L``, and keeps its digits for
    ``r/L = 1e-300``, where the difference of the two values of ``Phi``
    cancels 300 digits.

    Examples
    --------
    >>> from sympy import Rational, Symbol
    >>> gaussian_mass(0, Rational(1, 10**300)).evalf(20)
    3.9894228040143267794e-301
    >>> a, b = Symbol("a", real=True), Symbol("b", real=True)
    >>> gaussian_mass(a, b).diff(a)
    -phi(a)
    """

    nargs = 2
    _kernel_name = "normal_interval_mass"
    _argument_names = ("a", "b")

    @classmethod
    def eval(cls, a, b):
        _check_real_argument("a", a)
        _check_real_argument("b", b)
        if a == b:
            return S.Zero
        if a is S.NegativeInfinity:
            return Phi(b)
        if b is S.Infinity:
            return Phi(-a)
        if a is S.Infinity:
            return -Phi(-b)
        if b is S.NegativeInfinity:
            return -Phi(a)
        return None

    def fdiff(self, argindex=1):
        a, b = self.args
        if argindex == 1:
            return -phi(a)
        if argindex == 2:
            return phi(b)
        raise sympy.ArgumentIndexError(self, argindex)

    def _eval_is_extended_real(self):
        a, b = self.args
        return fuzzy_and([a.is_extended_real, b.is_extended_real])

    def _eval_is_extended_positive(self):
        a, b = self.args
        if a.is_extended_real and b.is_extended_real:
            return (b - a).is_extended_positive
        return None

    def _eval_is_extended_negative(self):
        a, b = self.args
        if a.is_extended_real and b.is_extended_real:
            return (b - a).is_extended_negative
        return None

    def _eval_rewrite_as_Phi(self, a, b, **kwargs):
        return Phi(b) - Phi(a)

    def _eval_rewrite_as_erf(self, a, b, **kwargs):
        root2 = sympy.sqrt(2)
        return (sympy.erf(b / root2) - sympy.erf(a / root2)) / 2

    def _print_kernel(self, printer, module):
        a, b = self.args
        name = printer._module_format(f"{module}.{self._kernel_name}")
        return f"{name}({printer._print(a)}, {printer._print(_interval_width(a, b))})"

    def _latex(self, printer, exp=None):
        a, b = self.args
        subtracted = Phi(a)
        subtracted_tex = printer._print(subtracted)
        if subtracted.is_Add or subtracted.could_extract_minus_sign():
            subtracted_tex = rf"\left({subtracted_tex}\right)"
        text = rf"\left({printer._print(Phi(b))} - {subtracted_tex}\right)"
        return text if exp is None else rf"{text}^{{{exp}}}"

    def _evaluate_mpf(self, prec):
        a_expr, b_expr = self.args
        width_expr = _interval_width(a_expr, b_expr)
        a = _real_value(a_expr, prec + _GUARD_BITS)
        width = _real_value(width_expr, prec + _GUARD_BITS)

        # The mass has a relative condition number of about x**2 in each
        # endpoint x, as Phi has, unless x lies so far in the tail beyond the
        # other end that its digits do not change the mass (_endpoint_bits).
        with workprec(prec + _GUARD_BITS):
            b = a + width
        needed = prec + _GUARD_BITS + max(_endpoint_bits(a, b, prec), _endpoint_bits(b, a, prec))
        if needed > prec + _GUARD_BITS:
            a, width = _real_value(a_expr, needed), _real_value(width_expr, needed)
        with workprec(needed):
            return _mp.normal_interval_mass(a, width)


class kl_bin(_KernelFunction):
    r"""Binary Kullback-Leibler divergence :math:`\operatorname{kl}(a \,\|\, b)`.

    .. math::

        \operatorname{kl}(a \,\|\, b) = a \log\frac{a}{b}
            + (1 - a) \log\frac{1 - a}{1 - b},

    the divergence between Bernoulli laws of parameters ``a`` and ``b`` in
    [0, 1], with :math:`0 \log 0 = 0`; never negative, zero only at
    ``a = b``. ``kl_bin(0, b)`` becomes :math:`-\log(1 - b)` and
    ``kl_bin(1, b)`` becomes :math:`-\log b`. ``kl_bin(a, 0)`` for ``a > 0``
    and ``kl_bin(a, 1)`` for ``a < 1`` become ``sympy.oo``, as in the numeric
    core, and so do ``kl_bin(0, 1)`` and ``kl_bin(1, 0)``.
    ``rewrite(sympy.log)`` gives the formula above.

    Numerical evaluation forms ``1 - a`` and ``1 - b`` from the exact sympy
    arguments before rounding, so ``a = 1 - 10**-300`` keeps its complement
    ``10**-300`` at any precision. Near ``a = b`` the divergence is about
    :math:`(a - b)^2 / (2 b (1 - b))`, while each term is about
    :math:`|a - b|`. So the arguments are rounded with at least
    :math:`\log_2(1 / |a - b|)` extra bits, each paired with its complement
    so that the two sum to exactly 1, and the precision is raised until two
    successive values agree: ``kl_bin(1/2, 1/2 + Phi(-20))`` is correct to
    every requested digit (about 1.5165e-177). Lambdified code passes
    ``b``, ``1 - b`` and ``a - b``, each summed exactly from its terms, to
    :func:`isobounds.symbolic._mp.binary_kl_divergence_of_gap`.

    Examples
    --------
    >>> from sympy import Rational, log
    >>> kl_bin(Rational(1, 2), Rational(1, 4)).rewrite(log)
    log(2/3)/2 + log(2)/2
    >>> kl_bin(Rational(1, 2), Rational(1, 4)).evalf(20)
    0.14384103622589046372
    """

    nargs = 2
    _kernel_name = "binary_kl_divergence"
    _argument_names = ("a", "b")

    @classmethod
    def eval(cls, a, b):
        _check_probability("a", a)
        _check_probability("b", b)
        if a == b:
            return S.Zero
        if a.is_zero:
            return S.Infinity if (b - 1).is_zero else -sympy.log(1 - b)
        if (a - 1).is_zero:
            return S.Infinity if b.is_zero else -sympy.log(b)
        # A Bernoulli law that puts mass where the other puts none is infinitely far from it.
        if (b.is_zero and a.is_extended_positive) or ((b - 1).is_zero and (1 - a).is_extended_positive):
            return S.Infinity
        return None

    def fdiff(self, argindex=1):
        a, b = self.args
        if argindex == 1:
            return sympy.log(a / b) - sympy.log((1 - a) / (1 - b))
        if argindex == 2:
            return (b - a) / (b * (1 - b))
        raise sympy.ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_log(self, a, b, **kwargs):
        return a * sympy.log(a / b) + (1 - a) * sympy.log((1 - a) / (1 - b))

    def _print_kernel(self, printer, module):
        # float64 code: a Gaussian mass such as the slab mass of two Gaussians
        # 160 standard deviations apart (1.8e-350) underflows to 0, and
        # kl(a || 0) is infinite. So an argument c * gaussian_mass(x, y) is
        # passed as c, x and y - x, and the kernel forms the mass in mpmath.
        # Otherwise the kernel receives b, 1 - b and a - b, each an exact sum
        # of its terms (see _mpmathcode).
        if not any(_mass_factors(argument) for argument in self.args):
            return self._print_gap_kernel(printer, module)
        name = printer._module_format(f"{module}.binary_kl_divergence_of_masses")
        parts = []
        for argument in self.args:
            factors = _mass_factors(argument)
            if factors is None:
                factors = (argument, S.NegativeInfinity, S.Infinity)
            parts.extend(printer._print(part) for part in factors)
        return f"{name}({', '.join(parts)})"

    def _mpmathcode(self, printer):
        return self._print_gap_kernel(printer, _MP_MODULE)

    def _print_gap_kernel(self, printer, module):
        # a and b of Corollary 8 for far modes agree to thousands of digits,
        # so rounded separately they lose a - b. The kernel receives b, 1 - b
        # and a - b, each an exact sum of its terms, in which sympy has
        # cancelled the terms common to a and b.
        first, second = self.args
        name = printer._module_format(f"{module}.binary_kl_divergence_of_gap")
        parts = (_print_exact_sum(printer, expr, module) for expr in (second, S.One - second, first - second))
        return f"{name}({', '.join(parts)})"

    def _latex(self, printer, exp=None):
        a, b = (printer._print(argument) for argument in self.args)
        text = rf"\operatorname{{kl}}\left({a} \,\middle\|\, {b}\right)"
        return text if exp is None else rf"{{{text}}}^{{{exp}}}"

    def _evaluate_mpf(self, prec):
        # Near a = b the divergence is about (a - b)^2 / (2 b (1 - b)), so the
        # arguments need at least log2(1 / |a - b|) more bits than the result.
        # Passes at rising precision confirm the value (see _kl_passes).
        first, second = self.args
        gap = _real_value(first - second, 53)
        # _kl_near_equal needs |a - b| < 2^-(prec + guard bits + 1) min(b, 1 - b), so
        # mag(a - b) <= -(prec + guard bits) even after the 53-bit rounding. Larger gaps
        # skip its three evaluations, which took 10 ms for Phi arguments.
        if gap and mpmath.mag(gap) <= -(prec + _GUARD_BITS):
            quadratic = _kl_near_equal(first, second, prec)
            if quadratic is not None:
                return quadratic
        extra = _GUARD_BITS + (max(0, -mpmath.mag(gap)) if gap else 0)
        return _kl_passes(lambda bits: _kl_at(first, second, bits), prec, extra)


def _print_exact_sum(printer, expr, module):
    """Print ``expr``, a sum as the ``exact_sum`` of ``module`` applied to its terms."""
    if not expr.is_Add:
        return printer._print(expr)
    name = printer._module_format(f"{module}.exact_sum")
    return f"{name}({', '.join(printer._print(term) for term in expr.args)})"


def _kl_near_equal(a_expr, b_expr, prec):
    """Return ``kl(a || b)`` as ``(a - b)^2 / (2 b (1 - b))`` when ``a - b`` is that small, else None.

    With ``d = a - b``, the Taylor series in ``d`` at ``b`` is
    ``d^2 / (2 b (1 - b)) + d^3 (1/(1 - b)^2 - 1/b^2) / 6 + ...``, and each
    term after the first is at most ``|d| / min(b, 1 - b)`` times the one
    before. So the first term alone has a relative error below
    ``2^-(prec + guard bits)`` when ``|d|`` is that many times smaller than
    ``min(b, 1 - b)``. It is used only where sympy evaluates the difference
    ``a - b`` without cancelling, as for ``a = 1/2 - Phi(-4000)`` and
    ``b = 1/2 - Phi(-200)/2 - Phi(-600)/2`` of Corollary 8, whose
    difference ``Phi(-600)/2 + Phi(-200)/2 - Phi(-4000)`` (about 1e-8690)
    sympy forms exactly. Passes at rising precision would need about
    ``log2(1 / |d|)`` more bits, more than any precision when ``d`` is
    below ``10**-1e6``.
    """
    bits = prec + _GUARD_BITS
    try:
        gap = _real_value(a_expr - b_expr, bits, strict=True)
        b, b_complement = _real_value(b_expr, bits, strict=True), _real_value(S.One - b_expr, bits, strict=True)
    except PrecisionExhausted:
        return None
    if gap == 0 or b <= 0 or b_complement <= 0:
        return None
    with workprec(bits):
        if mpmath.mag(gap) > mpmath.mag(min(b, b_complement)) - bits - 1:
            return None
        return gap**2 / (2 * b * b_complement)


def _mass_factors(expr):
    """Return ``(scale, a, b - a)`` when ``expr`` is ``scale * gaussian_mass(a, b)`` with no other mass in ``scale``, else None."""
    if isinstance(expr, gaussian_mass):
        scale, mass = S.One, expr
    elif expr.is_Mul:
        masses = [factor for factor in expr.args if isinstance(factor, gaussian_mass)]
        if len(masses) != 1:
            return None
        mass = masses[0]
        scale = sympy.Mul(*(factor for factor in expr.args if factor is not mass))
        if scale.has(gaussian_mass):
            return None
    else:
        return None
    a, b = mass.args
    return scale, a, _interval_width(a, b)


_MAX_KL_PASSES = 8
_KL_AGREEMENT_BITS = 4


def _kl_passes(evaluate, prec, extra):
    """Evaluate at ``prec + extra`` bits and more until two successive values agree; return the last one.

    ``evaluate(bits)`` returns the value computed with arguments rounded
    to ``bits`` bits. Its error falls as ``bits`` rises, so two values that
    agree to ``prec + 4`` bits show that the later, more precise one is
    correct to ``prec`` bits. Each pass after a disagreement adds as many
    bits as the agreement fell short by, plus guard bits.

    NOTE: after :data:`_MAX_KL_PASSES` passes the last value is returned
    even though it has not been confirmed.
    """
    previous = None
    for _ in range(_MAX_KL_PASSES):
        value = evaluate(prec + extra)
        if not mpmath.isfinite(value):
            return value
        shortfall = 0
        if previous is not None:
            shortfall = prec + _KL_AGREEMENT_BITS - _agreeing_bits(previous, value, prec)
            if shortfall <= 0:
                return value
        previous = value
        extra += shortfall + _GUARD_BITS
    return value


def _agreeing_bits(u, v, prec):
    """Return how many leading bits ``u`` and ``v`` share: 0 if their signs differ or one is zero, more than ``prec + 4`` if they are equal."""
    if u == v:
        return prec + _KL_AGREEMENT_BITS + 1
    if u == 0 or v == 0 or (u > 0) != (v > 0):
        return 0
    with workprec(53):
        return max(0, int(mpmath.mag(v) - mpmath.mag(u - v)) - 1)


def _kl_at(a_expr, b_expr, bits):
    """Return ``kl_bin(a, b)`` with ``a``, ``1 - a``, ``b`` and ``1 - b`` rounded to ``bits`` bits, each pair summing to exactly 1."""
    a, a_complement = _with_complement(a_expr, bits)
    b, b_complement = _with_complement(b_expr, bits)
    with workprec(bits):
        return _mp.binary_kl_divergence(a, b, a_complement, b_complement)


def _with_complement(expr, bits):
    """Return ``x`` and ``1 - x`` for the real number ``expr`` as mpf whose sum is exactly 1.

    The smaller of the two is evaluated from the sympy expression to
    ``bits`` bits and the other is formed from it without rounding
    (:func:`isobounds._precision.exact_one_minus`). So ``1 - x`` keeps its
    digits for ``x = 1 - 10**-300``, and the two terms of the divergence
    cancel as they do for exact arguments. Two roundings made separately
    would leave ``x + (1 - x)`` off 1 by about ``2^-bits``, an error the
    divergence near ``a = b`` does not cancel.
    """
    if _real_value(expr, 53) <= 0.5:
        x = _real_value(expr, bits)
        with workprec(bits):
            return x, exact_one_minus(x)
    x_complement = _real_value(S.One - expr, bits)
    with workprec(bits):
        return exact_one_minus(x_complement), x_complement


def rewrite_with_erf(expr):
    r"""Replace :class:`phi`, :class:`Phi`, :class:`Phi_inv`, :class:`isoperimetric_profile` and :class:`gaussian_mass` by closed forms.

    The result uses only ``exp``, ``erf`` and ``erfinv``, which sympy's own
    rules simplify, so ``sympy.simplify`` can check identities between the
    bounds.

    Parameters
    ----------
    expr : sympy.Expr
        Any expression.

    Returns
    -------
    sympy.Expr
    """
    expr = sympy.sympify(expr)
    expr = expr.replace(gaussian_mass, lambda a, b: Phi(b) - Phi(a))
    expr = expr.replace(isoperimetric_profile, lambda p: sympy.exp(-sympy.erfinv(2 * p - 1) ** 2) / sympy.sqrt(2 * S.Pi))
    expr = expr.replace(Phi_inv, lambda p: sympy.sqrt(2) * sympy.erfinv(2 * p - 1))
    expr = expr.replace(Phi, lambda x: (1 + sympy.erf(x / sympy.sqrt(2))) / 2)
    return expr.replace(phi, lambda x: sympy.exp(-x**2 / 2) / sympy.sqrt(2 * S.Pi))
