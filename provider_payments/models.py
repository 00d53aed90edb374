"""Provider payments: its models arrive with its own issue; it points at casework models with on_delete=PROTECT."""
