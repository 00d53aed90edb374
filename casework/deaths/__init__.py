"""Deaths: one record, consequences proposed by every app, confirmed by an officer, reversible."""
