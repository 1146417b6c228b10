"""Compare the external reference numbers typed into the tests with their published sources.

Not a test: it needs copies of the source repositories, which the test suite must not
download. Run from the repository root, giving git directories (a ``git clone --bare`` is
enough) of the sources that are at hand; each check names the commit it reads::

    git clone --bare https://github.com/bcallaway11/did /tmp/did.git
    git clone --bare https://github.com/asheshrambachan/HonestDiD /tmp/honestdid.git
    .venv/bin/python tests/estimators/references/check_sources.py \
        --did /tmp/did.git --honestdid /tmp/honestdid.git \
        --diff-diff-files /tmp/diff-diff-benchmarks

``--diff-diff-files`` is a folder holding ``didimputation_golden.json`` and
``didimputation_loo_stata_golden.json`` from diff-diff's ``benchmarks/data`` (commit
08b6a66338c82b5633a7a647983044e58dd7659d, e.g. from raw.githubusercontent.com).

Every printed number is compared at the precision it was printed with (a test constant
rounded to the printed digits must equal the printed text); the diff-diff JSON numbers are
compared exactly. Exit status 1 if any number differs. README.md beside this script records
the result of the last run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DID_COMMIT = "71ba8a564eada94d710d65ec0d4f64041351de96"  # did 2.5.1
HONESTDID_2024 = "0bbadb960ada898f9c17557f11bccc51538d84dd"  # HonestDiD 0.2.6, 2024-05-21
HONESTDID_2023 = "9f8379b8f6cc88a82c74616b5eed9ffb822d8e63"  # HonestDiD 0.2.5, 2023-10-26
NUMBER = r"-?\d*\.\d+|-?\d+"


def _module(relative: str):
    spec = importlib.util.spec_from_file_location(Path(relative).stem, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _show(git_dir: Path, commit: str, path: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _block(text: str, anchor: str) -> str:
    """The printed output that follows ``anchor`` up to the end of its code chunk."""
    start = text.index(anchor) + len(anchor)
    return text[start : text.index("```", start)]


def _same_printed(value: float, printed: str) -> bool:
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return f"{value:.{decimals}f}" == f"{float(printed):.{decimals}f}"


class Report:
    def __init__(self) -> None:
        self.failed = 0

    def check(self, name: str, ours: list[float], printed: list[str]) -> None:
        bad = [
            (i, o, p)
            for i, (o, p) in enumerate(zip(ours, printed, strict=True))
            if not _same_printed(o, p)
        ]
        status = "OK" if not bad and len(ours) == len(printed) else f"MISMATCH {bad}"
        self.failed += status != "OK"
        print(f"{status:8s} {name}: {len(ours)} numbers")

    def exact(self, name: str, ours: list[float], source: list[float]) -> None:
        ok = [float(a) for a in ours] == [float(b) for b in source]
        self.failed += not ok
        print(f"{'OK' if ok else 'MISMATCH':8s} {name}: {len(ours)} numbers (exact)")


def _did_rows(block: str, pattern: str) -> list[tuple[str, ...]]:
    return re.findall(pattern, block)


def check_did(report: Report, git_dir: Path) -> None:
    mpdta = _module("tests/estimators/did/test_did_mpdta.py")
    att_gt_row = rf"#>\s+(\d{{4}})\s+(\d{{4}})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})"
    dynamic_row = rf"#>\s+(-?\d)\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})"
    sources = {
        "README": ("README.md", "summary(out)", "summary(es)"),
        "did-basics": ("docs/articles/did-basics.md", "summary(mw.attgt)", "summary(mw.dyn)"),
    }
    for label, (path, gt_anchor, dyn_anchor) in sources.items():
        text = _show(git_dir, DID_COMMIT, path)
        gt_block = _block(text, gt_anchor)
        gt = _did_rows(gt_block, att_gt_row)
        dyn = _did_rows(_block(text, dyn_anchor), dynamic_row)
        for kind, rows in (("att_gt", gt), ("dynamic", dyn)):
            ours = [x for row in mpdta.R_BANDS[(kind, label)] for x in row]
            printed = [x for row in rows for x in row[-4:]]
            report.check(f"test_did_mpdta R_BANDS[({kind!r}, {label!r})] vs {path}", ours, printed)
        # point estimates do not depend on the bootstrap: R_ATT_GT and R_DYNAMIC estimates
        ours = [att for att, _ in mpdta.R_ATT_GT.values()]
        report.check(f"test_did_mpdta R_ATT_GT estimates vs {path}", ours, [r[2] for r in gt])
        ours = mpdta.R_DYNAMIC["estimate"].tolist()
        report.check(f"test_did_mpdta R_DYNAMIC estimates vs {path}", ours, [r[1] for r in dyn])
        cells = [(int(g), int(t)) for g, t, *_ in gt]
        report.check(
            f"test_did_mpdta R_ATT_GT cells vs {path}",
            [float(g * 10_000 + t) for g, t in mpdta.R_ATT_GT],
            [str(g * 10_000 + t) for g, t in cells],
        )
        pretest = re.search(r"pre-test of parallel trends assumption:\s+(\S+)", gt_block).group(1)
        report.check(f"test_did_mpdta R_PRETEST_P vs {path}", [mpdta.R_PRETEST_P], [pretest])
    # the four overall point estimates, as printed by aggte's examples (man/aggte.Rd)
    rd = _show(git_dir, DID_COMMIT, "man/aggte.Rd")
    printed = []
    for kind in ("simple", "dynamic", "group", "calendar"):
        chunk = rd[rd.index(f'aggte(out, type = "{kind}")') :]
        overall = re.search(rf"#>\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})", chunk)
        printed.append(overall.group(1))
    ours = [mpdta.R_OVERALL[k][0] for k in ("simple", "dynamic", "group", "calendar")]
    report.check("test_did_mpdta R_OVERALL estimates vs man/aggte.Rd", ours, printed)


def check_honestdid(report: Report, git_dir: Path) -> None:
    honest = _module("tests/estimators/test_honest.py")
    row = rf"##\s+\d+\s+({NUMBER})\s+({NUMBER})\s+(C-LF|FLCI)\s+(DeltaRM|DeltaSD)\s+({NUMBER})"
    for commit, constants in (
        (HONESTDID_2024, {"C-LF": "README_RM", "FLCI": "README_SD"}),
        (HONESTDID_2023, {"C-LF": "README_RM_2023"}),
    ):
        rows = re.findall(row, _show(git_dir, commit, "README.md"))
        for method, name in constants.items():
            table = getattr(honest, name)
            printed = [r for r in rows if r[2] == method][: len(table)]
            ours = [x for m, lo, hi in table for x in (lo, hi, m)]
            flat = [x for lo, hi, _, _, m in printed for x in (lo, hi, m)]
            report.check(f"test_honest {name} vs README.md@{commit[:7]}", ours, flat)


def check_diff_diff(report: Report, folder: Path) -> None:
    imputation = _module("tests/estimators/test_imputation.py")
    r = json.loads((folder / "didimputation_golden.json").read_text())
    s = json.loads((folder / "didimputation_loo_stata_golden.json").read_text())
    horizons = [str(h) for h in range(6)]
    event = s["event_study"]
    unbalanced = s["unbalanced"]["cohort_horizon"]
    overall, m = s["overall"], imputation
    pairs = {
        "STATA_OVERALL": (m.STATA_OVERALL, [overall["att"], overall["se_nonloo"]]),
        "STATA_EVENT_ATT": (m.STATA_EVENT_ATT, [event[h]["att"] for h in horizons]),
        "STATA_EVENT_SE": (m.STATA_EVENT_SE, [event[h]["se_nonloo"] for h in horizons]),
        "R_OVERALL_SE": ([m.R_OVERALL_SE], [r["overall"]["se"]]),
        "R_EVENT_SE": (m.R_EVENT_SE, r["event_study"]["se"]),
        "STATA_UNBALANCED": (m.STATA_UNBALANCED, [unbalanced["att"], unbalanced["se_nonloo"]]),
        "STATA_LEAVEOUT_SE": ([m.STATA_LEAVEOUT_SE], [overall["se"]]),
        "STATA_LEAVEOUT_EVENT_SE": (m.STATA_LEAVEOUT_EVENT_SE, [event[h]["se"] for h in horizons]),
        "STATA_LEAVEOUT_UNBALANCED_SE": ([m.STATA_LEAVEOUT_UNBALANCED_SE], [unbalanced["se"]]),
    }
    for name, (ours, source) in pairs.items():
        report.exact(f"test_imputation {name} vs diff-diff benchmarks/data", list(ours), source)
    rows = s["unbalanced"].get("n_rows")
    print(f"{'OK' if rows == 1305 else 'MISMATCH':8s} test_imputation unbalanced rows 1305: {rows}")
    report.failed += rows != 1305


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--did", type=Path, help="git directory of bcallaway11/did")
    parser.add_argument("--honestdid", type=Path, help="git directory of HonestDiD")
    parser.add_argument("--diff-diff-files", type=Path, help="folder of diff-diff JSON files")
    args = parser.parse_args()
    report = Report()
    if args.did:
        check_did(report, args.did)
    if args.honestdid:
        check_honestdid(report, args.honestdid)
    if args.diff_diff_files:
        check_diff_diff(report, args.diff_diff_files)
    print(f"{report.failed} mismatching check(s)")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
