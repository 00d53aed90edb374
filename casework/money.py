"""The one money representation and the one rounding rule.

Money is a Decimal to the penny. Every fractional result (pro-rating, interest, percentages) and
every total (SQLite sums decimals inexactly) passes through `to_pennies`, which rounds half up.
Pounds are formatted only at the edge, by the `money` template filter.
"""
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_DIGITS = 13
DECIMAL_PLACES = 2


class MoneyError(ValueError):
    pass


def to_pennies(value) -> Decimal:
    """Round any amount half up to the penny. Floats are refused: they are never money."""
    if value is None:
        return ZERO
    if isinstance(value, float):
        raise MoneyError("Money must not be a float")
    try:
        return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError) as exc:
        raise MoneyError(f"Not an amount of money: {value!r}") from exc


def parse_money(text: str) -> Decimal:
    """Read an amount typed by a person or found in a file: '£1,234.50', '1234.5', '-12'."""
    cleaned = str(text).strip().replace("£", "").replace(",", "").replace(" ", "")
    if not cleaned:
        raise MoneyError("Enter an amount")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise MoneyError("Enter an amount in pounds and pence, like 125.50") from exc
    if not amount.is_finite():
        raise MoneyError("Enter an amount in pounds and pence, like 125.50")
    # The size first: quantizing a huge amount such as 1e999999 raises InvalidOperation.
    if abs(amount) >= Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES):
        raise MoneyError("Enter a smaller amount")
    if amount != amount.quantize(PENNY):
        raise MoneyError("Enter an amount to the penny, with no more than 2 decimal places")
    return amount.quantize(PENNY)


def split(total: Decimal, parts: int) -> list[Decimal]:
    """Split a total into parts: each floored to the penny, the remainder on the last part."""
    if parts < 1:
        raise MoneyError("Cannot split into fewer than one part")
    total = to_pennies(total)
    each = (total / parts).quantize(PENNY, rounding=ROUND_FLOOR)
    return [each] * (parts - 1) + [total - each * (parts - 1)]


def format_pounds(amount) -> str:
    """£1,234.50; negative amounts as -£12.00."""
    value = to_pennies(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}£{abs(value):,.2f}"
