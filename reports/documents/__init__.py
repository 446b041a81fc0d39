"""Business documents printed from sales orders: invoice, delivery note, picking list, quote.

``kinds`` declares them, ``selectors`` computes what a page shows (lines, totals per tax rate)
from the orders, ``services`` renders HTML templates from ``templates/documents/`` to PDF —
one order in-process, many in parallel worker processes into a ZIP or one merged PDF.
"""
