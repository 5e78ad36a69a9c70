"""Billing pages, one module per resource: bills and downloads (HR and agency), payments and bank
statements, base declarations, the employee's own record, and collection with billing runs
(agency). ``urls.py`` routes to the modules.

Views are thin: build the actor, ask :mod:`expatsi.billing.permissions` whether the page is the
actor's, read through :mod:`expatsi.billing.selectors` or call one service, and show a RuleError
next to its field.
"""
