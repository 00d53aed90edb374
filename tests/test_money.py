from decimal import Decimal

import pytest

from casework.money import MoneyError, format_pounds, parse_money, split, to_pennies


@pytest.mark.parametrize("value, expected", [
    ("1.005", "1.01"), ("1.004", "1.00"), ("-1.005", "-1.01"), ("2.675", "2.68"), ("0.125", "0.13"),
    (Decimal("10") / 3, "3.33"), (7, "7.00"), (None, "0.00"),
])
def test_rounding_is_half_up_to_the_penny(value, expected):
    assert to_pennies(value) == Decimal(expected)


def test_floats_are_never_money():
    with pytest.raises(MoneyError):
        to_pennies(0.1)


@pytest.mark.parametrize("typed, expected", [("£1,234.50", "1234.50"), ("12", "12.00"), (" -3.5 ", "-3.50")])
def test_amounts_typed_by_people_are_read(typed, expected):
    assert parse_money(typed) == Decimal(expected)


@pytest.mark.parametrize("typed", ["", "abc", "12.345", "1e3x", "NaN", "Infinity", "99999999999999"])
def test_bad_amounts_are_refused_with_a_message(typed):
    with pytest.raises(MoneyError):
        parse_money(typed)


@pytest.mark.parametrize("total, parts", [("100.00", 3), ("0.01", 2), ("1000.00", 7), ("99.99", 12), ("5.00", 1)])
def test_a_split_floors_each_part_and_puts_the_remainder_last_so_parts_sum_to_the_total(total, parts):
    result = split(Decimal(total), parts)
    assert len(result) == parts and sum(result) == Decimal(total)
    assert all(p == result[0] for p in result[:-1]) and result[-1] >= result[0]


@pytest.mark.parametrize("amount, text", [(Decimal("1234.5"), "£1,234.50"), (Decimal("-12"), "-£12.00")])
def test_pounds_are_formatted_at_the_edge(amount, text):
    assert format_pounds(amount) == text


@pytest.mark.parametrize("text", ["1e999999", "-1e999999", "99999999999999.999"])
def test_an_absurdly_large_amount_is_refused_not_a_crash(text):
    with pytest.raises(MoneyError, match="smaller amount"):
        parse_money(text)
