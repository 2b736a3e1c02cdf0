"""The scripted participants live in ``survey.bots`` (also used by ``manage.py survey_bots``)."""

from survey.bots import SurveyBot

__all__ = ["SurveyBot"]
