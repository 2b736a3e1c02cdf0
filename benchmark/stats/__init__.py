"""Statistics of the validation pipeline: pure numpy/scipy, no Django.

- ``ranks``: average ranks along rows, NaN-aware (ties get their mean rank, as ``rankdata``).
- ``correlation``: item × dimension correlations (Spearman, Pearson, Kendall τ-b) over
  *ragged* rating data held in a padded items × raters matrix, with p-values computed with
  the same formulas and special functions as ``scipy.stats``.
- ``multiple``: Benjamini–Hochberg / Benjamini–Yekutieli adjusted p-values.
- ``bootstrap``: percentile confidence intervals by resampling participants.
- ``blocks``: Spearman/Pearson of many resampled (multiplicity weights) or permuted copies of
  the data from the original ranks, block by block of items sharing their raters; a
  vectorised ``nanpercentile``.
- ``reliability``: Cronbach's α with Feldt CI, corrected item–total correlations, standardised α
  from pairwise-complete inter-item correlations.
- ``power``: raters needed to detect a correlation (Fisher z).
- ``circumplex``: whether an item's correlations follow Schwartz's circle.
"""
