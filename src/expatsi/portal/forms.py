"""Forms of the portal's own pages (the home pages). Validation of substance lives in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, passport number, social security number or employer"),
        required=False,
        max_length=100,
    )
