"""Load test of the participant survey: simulated Prolific participants against gunicorn.

Run ``python -m perf.load_survey --help``. The package creates a dedicated PostgreSQL
database, migrates and seeds it, serves the app with gunicorn on 127.0.0.1 (a free port),
drives simulated participants through the whole study flow, then compares the database with
every answer the participants were acknowledged. See ``perf/README.md``.
"""
