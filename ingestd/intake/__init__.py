"""Intake: bodies from sources, validated and normalised into domain alerts."""

from ingestd.intake.errors import BodyTooLarge, IntakeError, Overloaded
from ingestd.intake.limits import IntakeLimits

__all__ = ["BodyTooLarge", "IntakeError", "IntakeLimits", "Overloaded"]
