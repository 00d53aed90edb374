"""Rows of the access matrix contributed by each app's pages (see tests/test_access_matrix.py).

Each module here has MATRIX (url name -> (roles, method, kind)), make_objects(base) -> dict of
extra objects its URLs need, and url_kwargs(name, objects) -> kwargs for reverse(), or None.
Every module in this package is an extension; a new app adds its own module.
"""
import importlib
import pkgutil

EXTENSIONS = [importlib.import_module(f"{__name__}.{info.name}")
              for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name)]
