"""The kernel: settings, database, errors, security (identity, scope, audit). It imports no other layer."""
