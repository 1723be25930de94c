"""Who is on call: teams, their rotations and overrides."""

from ingestd.oncall.model import Override, Rotation, RotationKind, Shift, Team

__all__ = ["Override", "Rotation", "RotationKind", "Shift", "Team"]
