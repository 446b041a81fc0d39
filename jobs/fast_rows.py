"""Tables whose body rows are written without django-tables2's per-cell machinery.

django-tables2 declares the columns, sorts and paginates; ``FastRowsTable.rows_html`` writes
the ``<tbody>`` rows itself (through the shared ``fast_rows_table.html`` template). Per cell,
django-tables2 resolves the accessor, the attributes and the render signature
(``inspect.signature``) anew, renders a TemplateColumn in a new RequestContext that runs every
context processor again, and ``DateTimeColumn`` compiles its template anew: most of a listing
page's CPU (bench/bench_web.py --cpu). Here each column's cell writer is worked out once per
table and then applied to each record: same values, same escaping, same ``<td>`` attributes
and row classes as django-tables2's own template (tests compare the two).

It lives in ``jobs`` because both the jobs dashboard and the business records pages use it and
``business`` may depend on ``jobs``, not the other way round.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import django_tables2 as tables
from django.template import Context
from django.template.base import render_value_in_context
from django.template.loader import get_template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# Writes the inside of one cell from the record and its row counter.
CellWriter = Callable[[Any, int], str]


def template_cell_writer(bound, context: Context) -> CellWriter:
    """A TemplateColumn's cell, with the variables django-tables2 gives its template."""
    # Rendered in the page's own context (as an {% include %} is), not in a new
    # RequestContext per cell that would run the context processors again.
    template = get_template(bound.column.template_name).template
    default = bound.default

    def write(record, counter):
        with context.push(
            record=record, value=None, column=bound, default=default, row_counter=counter
        ):
            return template.render(context)

    return write


def value_cell_writer(
    get: Callable[[Any], Any],
    *,
    bound,
    context: Context,
    render: Callable[[Any], Any] | None = None,
) -> CellWriter:
    """A value column's cell: ``get(record)``, the column's default when that is one of its
    empty values, else ``render(value)`` (when given) escaped as ``{{ value }}`` would be."""
    empty = bound.column.empty_values
    default = render_value_in_context(bound.default, context)
    autoescape = context.autoescape

    def write(record, _counter):
        value = get(record)
        if value in empty:
            return default
        if render is not None:
            value = render(value)
        if autoescape and type(value) is str:
            # What render_value_in_context does to a plain str (escape()), without its
            # localize and lazy-wrapper calls: most cells of a records page are text.
            return SafeString(html.escape(value))
        return render_value_in_context(value, context)

    return write


class FastRowsTable(tables.Table):
    """A table whose ``rows_html`` writes the current page's body rows (module docstring).

    A subclass says how each of its value columns is read (``cell_writer``) and, when its
    ``Meta.row_attrs`` add attributes, writes them in ``row_attrs_html``.
    """

    def cell_writer(self, bound, context: Context) -> CellWriter:
        """How the cell of column ``bound`` is written; by default the column's template."""
        if isinstance(bound.column, tables.TemplateColumn) and bound.column.template_name:
            return template_cell_writer(bound, context)
        raise NotImplementedError(f"{type(self).__name__} does not write column {bound.name!r}")

    def row_attrs_html(self, record) -> str:
        """The ``<tr>``'s attributes before its class (``Meta.row_attrs``), with a leading space."""
        return ""

    def rows_html(self) -> SafeString:
        """The ``<tr>`` rows of the current page (or the empty-table row)."""
        # render_table lends the table the page's context while it renders (TemplateColumn's
        # way too); outside it, a plain autoescaping context.
        context = getattr(self, "context", None) or Context()
        # The columns' <td> attributes are static (no callables): read them once.
        cells = [
            (mark_safe(f"<td {bound.attrs['td'].as_html()}>"), self.cell_writer(bound, context))
            for bound in self.columns
        ]
        out = []
        for record in self.paginated_rows.data:
            # Numbered from the table's counter, as django-tables2's even/odd classes are.
            counter = next(self._counter)
            parity = "odd" if counter % 2 else "even"
            row = "".join(f"{td}{write(record, counter)}</td>" for td, write in cells)
            out.append(f'<tr{self.row_attrs_html(record)} class="{parity}">{row}</tr>')
        if not out and self.empty_text:
            out.append(
                format_html('<tr><td colspan="{}">{}</td></tr>', len(self.columns), self.empty_text)
            )
        return mark_safe("".join(out))
