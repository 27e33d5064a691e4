"""Security: identity (passwords, tokens), access scope, audit trail."""
