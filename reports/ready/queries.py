"""Query helpers the reports share: exact decimal sums in the database."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, Sum, Value
from django.db.models.functions import Coalesce

# Wide enough for any sum of products of money (2 places) and quantities (3 places).
DEC = DecimalField(max_digits=30, decimal_places=6)
ZERO_DEC = Value(Decimal("0"), output_field=DEC)


def decimal_expr(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=DEC)


def decimal_sum(expression, **kwargs) -> Coalesce:
    return Coalesce(Sum(decimal_expr(expression), **kwargs), ZERO_DEC, output_field=DEC)
