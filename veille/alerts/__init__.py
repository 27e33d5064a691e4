"""Alerts: subscriptions over text and facets, matching new items and documents, story-level digests."""
