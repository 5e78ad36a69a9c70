"""REST API for billing, one module per resource: base declarations, bills (with balances, arrears
and collection), payments and bank statements, billing runs and their jobs, and the employee's own
contributions, account and pension outlook. This router assembles them under ``/billing``.

Thin: schema in → one service or selector call → schema out; the schemas resolve their own fields
from what the selectors and services return. Amounts are yuan strings with two decimals, rates
percentages. A bill, payment or run the caller may not see is a 404.
"""

from ninja import Router

from expatsi.access.auth import api_auth
from expatsi.billing.api import bill_lines, bills, declarations, me, payments, runs

router = Router(tags=["billing"], auth=api_auth)
for part in (declarations, bills, payments, runs, me, bill_lines):
    router.add_router("", part.router)
