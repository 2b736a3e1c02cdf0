"""Running a study on Prolific: the API client (``client``, no Django), the writes
(``services``), the reads (``selectors``), the review page and the webhook (``views``)."""
