"""Compare two correlation tables pair by pair (pure pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd

KEY = ["item_id", "family", "dimension"]
TOLERANCE = 1e-12


def compare_frames(reference: pd.DataFrame, other: pd.DataFrame) -> dict:
    """Join on (item, family, dimension); summarise the differences of r and p.

    Pairs whose r is undefined in both count as equal. ``worst`` lists the pairs with the
    largest |Δr| (up to 20).
    """
    merged = reference.merge(other, on=KEY, suffixes=("_ref", "_new"), how="inner")
    for name in ("scenario_external_id", "option_id", "release_group"):
        if f"{name}_ref" in merged:
            merged[name] = merged.pop(f"{name}_ref")
            merged = merged.drop(columns=[f"{name}_new"], errors="ignore")
    merged["delta_r"] = merged["r_new"] - merged["r_ref"]
    merged["delta_p"] = merged["p_new"] - merged["p_ref"]
    both_nan = merged["r_new"].isna() & merged["r_ref"].isna()
    identical = (merged["r_new"] == merged["r_ref"]) | both_nan
    close = (merged["delta_r"].abs() <= TOLERANCE) | both_nan
    merged["identical"], merged["within_tolerance"] = identical, close

    def summary(frame: pd.DataFrame) -> dict:
        abs_dr = frame["delta_r"].abs()
        abs_dp = frame["delta_p"].abs()
        return {
            "pairs": int(len(frame)),
            "identical": int(frame["identical"].sum()),
            "within_tolerance": int(frame["within_tolerance"].sum()),
            "different": int((~frame["within_tolerance"]).sum()),
            "max_abs_delta_r": float(abs_dr.max()) if abs_dr.notna().any() else 0.0,
            "max_abs_delta_p": float(abs_dp.max()) if abs_dp.notna().any() else 0.0,
        }

    by_group = []
    if "release_group" in merged and merged["release_group"].notna().any():
        for group, frame in merged.groupby("release_group", dropna=True):
            by_group.append({"release_group": int(group), **summary(frame)})
    worst = (
        merged.assign(abs_delta_r=merged["delta_r"].abs())
        .sort_values("abs_delta_r", ascending=False, na_position="last")
        .head(20)
    )
    worst = worst[~worst["within_tolerance"]]
    return {
        "frame": merged,
        "summary": summary(merged),
        "tolerance": TOLERANCE,
        "by_group": by_group,
        "worst": [
            {
                "portrait_id": row.scenario_external_id,
                "option_id": int(row.option_id),
                "dimension": row.dimension,
                "r_published": None if np.isnan(row.r_ref) else float(row.r_ref),
                "r_recomputed": None if np.isnan(row.r_new) else float(row.r_new),
                "delta_r": None if np.isnan(row.delta_r) else float(row.delta_r),
                "n": None if pd.isna(row.n_new) else int(row.n_new),
            }
            for row in worst.itertuples()
        ],
    }
