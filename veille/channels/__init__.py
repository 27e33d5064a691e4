"""Delivery channels of alert digests (email, Atom, webhook), each behind ``veille.channels.base.Channel``."""
