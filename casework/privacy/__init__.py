"""Data protection: subject access exports, retention review and approved erasure.

Other apps add their records to subject access exports and their personal data to erasure
through casework.privacy.registry (see its docstring)."""
