"""The demo data set of `make demo` (see data.py) and its ``demo_setup`` command."""
