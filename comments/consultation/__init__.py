"""Consultation: rounds of comments on a draft version, unit responses and comments."""
