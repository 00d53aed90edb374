"""Rows of the access matrix contributed by each app's pages (see tests/test_access_matrix.py).

Each module here has MATRIX (url name -> (roles, method, kind)), make_objects(base) -> dict of
extra objects its URLs need, and url_kwargs(name, objects) -> kwargs for reverse(), or None.
"""
from . import debt_billing, debt_legal, debt_payments, debt_queue, debt_recovery, debt_relief, debt_writeoffs

EXTENSIONS = [debt_billing, debt_legal, debt_payments, debt_queue, debt_recovery, debt_relief, debt_writeoffs]
