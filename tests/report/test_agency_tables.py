"""Per-agency tables at scale: natural order of names, distributions by agency type."""

from __future__ import annotations

import numpy as np
import pandas as pd

from asn_eval.report.agency_tables import agency_distribution, natural_key, sort_naturally


def test_names_with_numbers_sort_by_value_not_as_text():
    names = ["Wilayah 10", "Wilayah 2", "Wilayah 1", "Wilayah 11", "Dinas Kesehatan"]
    frame = pd.DataFrame({"name": names, "n": range(5)})
    ordered = sort_naturally(frame, "name")["name"].tolist()
    assert ordered == ["Dinas Kesehatan", "Wilayah 1", "Wilayah 2", "Wilayah 10", "Wilayah 11"]
    assert sorted(names) != ordered  # plain text order puts "Wilayah 10" before "Wilayah 2"
    assert natural_key("Puskesmas 9") < natural_key("Puskesmas 10")
    plain = ["Sekretariat Daerah", "Sekretariat DPRD", "Dinas Sosial"]  # no numbers: text order
    assert sorted(plain, key=natural_key) == sorted(plain)


def test_distribution_counts_agencies_and_matches_numpy_percentiles():
    rng = np.random.default_rng(0)
    per_agency = pd.DataFrame(
        {
            "agency_type": np.repeat(["Kecamatan 2", "Kecamatan 10", "Dinas"], [30, 20, 10]),
            "n": rng.integers(5, 400, 60),
            "female": rng.uniform(size=60).astype(object),
        }
    )
    per_agency.loc[3, "female"] = "*"  # a withheld share counts as missing
    table = agency_distribution(
        per_agency, group="agency_type", spread=["n"], medians=["female"], total="n"
    )
    assert table["agency_type"].tolist() == ["Dinas", "Kecamatan 2", "Kecamatan 10"]
    assert table["agencies"].sum() == len(per_agency)
    assert table["n_total"].sum() == per_agency["n"].sum()
    rows = per_agency[per_agency["agency_type"] == "Kecamatan 2"]
    row = table.set_index("agency_type").loc["Kecamatan 2"]
    assert row["n_p10"] == np.percentile(rows["n"], 10)
    assert row["n_p90"] == np.percentile(rows["n"], 90)
    shares = pd.to_numeric(rows["female"], errors="coerce").dropna()
    assert row["female"] == np.median(shares) and len(shares) == 29
