"""The dashboard's screens, one per mode (``tui/app.py`` maps them)."""
