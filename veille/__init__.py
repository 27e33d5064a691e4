"""Veille: watch sources (feeds), their items, and later stories, subscriptions and digests."""
