"""Appointment and queue service for citizen offices."""

__version__ = "0.1.0"
