"""The law as code: pure Python, no Django, no I/O besides reading its own policy data.

Every amount is integer fen; every rate is an exact integer in parts per million (ppm);
every result can explain itself and names the policy (with its source and status) it used.
"""
