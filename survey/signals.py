"""Signals other apps listen to (sent after the transaction commits).

``participant_completed``: a participant finished a study and their answers and scores are
stored. Keyword arguments: ``participant_id`` (int), ``study_id`` (int). The benchmark app uses
it to recompute correlations after enough new completions.
"""

from django.dispatch import Signal

participant_completed = Signal()
