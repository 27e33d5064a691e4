"""Indicators of the network's dashboards (issue 13), computed from the platform's own records by SQL
aggregates: ``adoption``, ``use``, ``content``, ``watch``, ``quality``, per week and month of a period
(``periods``), for the network, a region or an organisation (``scopes``), with cells from fewer than five
people suppressed (``privacy``). ``service.indicators_for`` checks the caller and audits the read."""
