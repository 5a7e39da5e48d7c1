"""Alerts: rules over bus events (``rules.py``), suppression, quiet hours and history
(``manager.py``), delivery through Apprise (``delivery.py``), and the daemon service (``service.py``).

This package is imported when the settings load (``[alerts]`` validation): its ``__init__`` imports
nothing, and ``rules``, ``quiet`` and ``masking`` stay free of heavy imports.
"""
