"""Signals other apps listen to.

``participant_completed`` (sent after the transaction commits): a participant finished a
study and their answers and scores are stored. Keyword arguments: ``participant_id`` (int),
``study_id`` (int). The benchmark app uses it to recompute correlations after enough new
completions.

``participant_erased`` (sent *inside* the erasure's transaction, so that what a receiver
writes commits or rolls back with the erasure, and a receiver's error stops the erasure):
a participant's data has just been deleted on request. Keyword arguments: ``study_id``
(int), ``external_id`` and ``pseudonym`` (str: the panel id and the pseudonym, for
receivers that must scrub them from what they stored; never to be stored again), ``arrived_at`` (datetime: when the participant arrived,
so nothing computed before it can hold their data), ``erasure_id`` (int: the
``ErasureRecord``). The benchmark app marks the correlation runs that may hold the
participant's data as stale.
"""

from django.dispatch import Signal

participant_completed = Signal()
participant_erased = Signal()
