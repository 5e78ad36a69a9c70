"""Account security a user manages themself (second factor, recovery codes), and the agency's reset.

It sits above ``audit`` because every change is audited, and above ``web`` for its pages; the
primitives it uses (devices, throttling, actors) stay in ``access`` below both.
"""
