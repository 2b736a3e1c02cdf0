"""Questionnaire structure, scoring keys and scoring: pure Python, no Django imports.

``keys`` loads the shipped keys (``data/*.json``), ``scoring`` turns answers into value
scores (mean per value, then MRAT centring where the instrument prescribes it), ``wording``
checks a wording file against its key, and ``dimensions`` names the dimension families that
the whole project shares (benchmark correlations, model portraits).
"""
