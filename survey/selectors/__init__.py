"""Reads of the survey app (no writes; never imports ``survey.services``).

``progress``: where a participant is and what is left; ``item_page``: the item page's one
read; ``monitor``: the staff's live monitor; ``exports``: ratings, participants and the
release's JSON shapes.
"""
