* Stata did_imputation on diff-diff's parity panel: STATA_* constants of
* tests/estimators/test_imputation.py.
*
* NOT RUN HERE: no Stata on the machine these tests were written on. The constants were
* copied from benchmarks/data/didimputation_loo_stata_golden.json of
* github.com/igerber/diff-diff (commit 08b6a66338c82b5633a7a647983044e58dd7659d), written
* by its benchmarks/stata/generate_imputation_loo_golden.do (Stata SE 19.0; did_imputation
* "Version: November 22, 2023", reghdfe 6.13.1, ftools 2.50.0). These are the calls that
* file made (written here, not copied); the panel is the CSV that
* ../R/didimputation_parity.R makes (diff-diff's benchmarks/data/didimputation_test_panel.csv).
*
*     ssc install ftools; ssc install reghdfe; ssc install did_imputation
*     stata -b do tests/estimators/references/stata/didimputation_parity.do
import delimited using "didimputation_test_panel.csv", clear varnames(1)
gen Ei = first_treat
replace Ei = . if first_treat == 0

* overall: _b[tau], _se[tau] -> STATA_OVERALL (the non-leave-out SE)
did_imputation y unit time Ei, avgeffectsby(Ei t) cluster(unit)
* with leaveout (BJS appendix A.9): _se[tau] -> STATA_LEAVEOUT_SE
did_imputation y unit time Ei, leaveout avgeffectsby(Ei t) cluster(unit)
* horizons: _b[tau0..tau5] -> STATA_EVENT_ATT, _se -> STATA_EVENT_SE
did_imputation y unit time Ei, horizons(0/5) avgeffectsby(Ei t) cluster(unit)
* horizons with leaveout: _se[tau0..tau5] -> STATA_LEAVEOUT_EVENT_SE
did_imputation y unit time Ei, horizons(0/5) leaveout avgeffectsby(Ei t) cluster(unit)

* unbalanced: drop periods 6-8 of every unit divisible by 4 (1305 rows)
drop if mod(unit, 4) == 0 & time >= 6
* _b[tau], _se[tau] -> STATA_UNBALANCED
did_imputation y unit time Ei, avgeffectsby(Ei t) cluster(unit)
* _se[tau] -> STATA_LEAVEOUT_UNBALANCED_SE
did_imputation y unit time Ei, leaveout avgeffectsby(Ei t) cluster(unit)
