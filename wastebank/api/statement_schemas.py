"""Schemas of the statements endpoint (issue 5): they document the answer in the OpenAPI
document; the figures come from ``reports.statements.statement_json``."""
from __future__ import annotations

import marshmallow as ma


class CategoryFigureSchema(ma.Schema):
    category = ma.fields.String(metadata={"description": "Category code"})
    unit = ma.fields.String(metadata={"description": "kg, L or pcs"})
    quantity_milli = ma.fields.Integer(metadata={"description": "Net quantity, thousandths of the unit"})
    value_idr = ma.fields.Integer(metadata={"description": "Net value of the deposit lines, rupiah"})


class UnitFiguresSchema(ma.Schema):
    """One unit's figures for the month (or the total, with unit ``TOTAL``)."""

    unit = ma.fields.String()
    name = ma.fields.String()
    members = ma.fields.Integer(metadata={"description": "Members registered by the month end"})
    new_members = ma.fields.Integer()
    active_members = ma.fields.Integer(metadata={"description": "Members with at least "
                                                 "`active_member_min_deposits` net deposits in the month"})
    households_served = ma.fields.Integer(metadata={"description": "Members with at least one net deposit"})
    deposits = ma.fields.Integer(metadata={"description": "Deposits recorded in the month minus voids "
                                           "recorded in the month"})
    voided_deposits = ma.fields.Integer()
    deposit_value_idr = ma.fields.Integer()
    fee_idr = ma.fields.Integer()
    credited_idr = ma.fields.Integer()
    by_category = ma.fields.List(ma.fields.Nested(CategoryFigureSchema))
    withdrawals = ma.fields.Integer()
    withdrawals_idr = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(),
                                     metadata={"description": "Paid, net of voids, by method"})
    withdrawals_total_idr = ma.fields.Integer()
    savings_owed_idr = ma.fields.Integer(metadata={"description": "Members' savings at the month end (ledger)"})
    sales = ma.fields.Integer()
    sales_idr = ma.fields.Integer()
    margin_idr = ma.fields.Integer()
    stock_idr = ma.fields.Integer(metadata={"description": "Stock on hand at cost at the month end (ledger)"})


class StatementCategorySchema(ma.Schema):
    code = ma.fields.String()
    name_id = ma.fields.String()
    name_en = ma.fields.String()
    unit = ma.fields.String()


class AggregatorRefSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()


class StatementSchema(ma.Schema):
    """The monthly aggregator statement (docs/rules.md §documents): the same figures as its PDF and CSV."""

    aggregator = ma.fields.Nested(AggregatorRefSchema)
    month = ma.fields.String(metadata={"example": "2025-01"})
    start = ma.fields.String(metadata={"description": "Local midnight on the 1st, as UTC ISO 8601"})
    end = ma.fields.String(metadata={"description": "Local midnight on the 1st of the next month"})
    active_member_min_deposits = ma.fields.Integer()
    categories = ma.fields.List(ma.fields.Nested(StatementCategorySchema))
    units = ma.fields.List(ma.fields.Nested(UnitFiguresSchema))
    total = ma.fields.Nested(UnitFiguresSchema)
