"""Maintenance windows: alerts on CIs under maintenance (and their dependents) are held."""

from ingestd.maintenance.windows import Every, Hold, Recurrence, Window, is_in_maintenance

__all__ = ["Every", "Hold", "Recurrence", "Window", "is_in_maintenance"]
