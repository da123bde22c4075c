"""The one way Darkroom writes money.

Two forms, and only two:

- `exact`: the amount as the ledger holds it, for tables and CSV files. Four decimals
  ($0.0280, $0.1120), because every price is a whole number of tenths of a cent; an amount
  with more (a price staff set to six places) keeps its six, so nothing is ever rounded away.
- `prose`: the amount in a sentence (totals, budgets, the quote's "left", refusals, banners,
  notices, mails), to the cent: $0.76, $12.00. Half a cent rounds up; an amount that is not
  zero but would read $0.00 reads "less than $0.01" (a $0.0010 use of the prompt enhancer is
  not free). Every sentence uses it, so two amounts side by side are rounded alike.
- `rounded` is `prose` without that one exception, for a chart's value labels, where a label
  must stay short.

`exact_number` is `exact` without the dollar sign, for a CSV cell a spreadsheet adds up.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FOUR = Decimal("0.0001")
SIX = Decimal("0.000001")
CENT = Decimal("0.01")


def _decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value if value is not None else 0))
    except InvalidOperation:
        return Decimal(0)


def exact_number(value: object) -> str:
    """`0.0280`: four decimals, six when the amount has more (never rounded to fewer)."""
    amount = _decimal(value)
    four = amount.quantize(FOUR, rounding=ROUND_HALF_UP)
    shown = four if four == amount else amount.quantize(SIX, rounding=ROUND_HALF_UP)
    return f"{shown + 0:f}"  # + 0 turns -0.0000 into 0.0000


def _signed(text: str) -> str:
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def exact(value: object) -> str:
    """`$0.0280`, for tables."""
    return _signed(exact_number(value))


def rounded(value: object) -> str:
    """`$0.76`, to the cent, for a chart's labels."""
    amount = _decimal(value).quantize(CENT, rounding=ROUND_HALF_UP) + 0
    return _signed(f"{amount:,f}")


def prose(value: object) -> str:
    """`$0.76`, or "less than $0.01", for a sentence."""
    amount = _decimal(value)
    if amount and abs(amount) < CENT / 2:
        return "less than $0.01"
    return rounded(amount)
