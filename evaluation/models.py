"""Evaluation models (model configurations, runs, responses, portraits)."""
