"""Scoring: language, sentiment, service categories and urgency of mentions."""
