"""The dashboard's reusable widgets, grouped by feature."""
