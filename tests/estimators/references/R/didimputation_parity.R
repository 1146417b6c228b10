# R didimputation on diff-diff's parity panel: R_OVERALL_SE and R_EVENT_SE of
# tests/estimators/test_imputation.py.
#
# NOT RUN HERE: R is not installed on the machine these tests were written on and CRAN was
# unreachable. The constants were copied from the output diff-diff committed,
# benchmarks/data/didimputation_golden.json (github.com/igerber/diff-diff, commit
# 08b6a66338c82b5633a7a647983044e58dd7659d; its meta: R 4.5.2, didimputation 0.5.0), which
# its script benchmarks/R/generate_didimputation_golden.R wrote. This script makes the same
# panel and the same two calls (written here, not copied), so anyone with R can check them:
#
#     Rscript tests/estimators/references/R/didimputation_parity.R
#
# The test rebuilds the panel in Python from R's random numbers (r_rnorm in the test), so
# the data need not be shipped. Draw order: per unit one rnorm(1) for the unit level c_i,
# then per period t = 1..8 one rnorm(1) for the noise.
suppressPackageStartupMessages(library(didimputation))
cat("didimputation", as.character(packageVersion("didimputation")), "\n")

set.seed(2024)
rows <- list()
uid <- 0L
for (g in c(0L, 3L, 5L)) {            # never treated, cohorts 3 and 5; 60 units each
  for (j in 1:60) {
    c_i <- rnorm(1)
    for (t in 1:8) {
      u <- 0.2 * rnorm(1)
      effect <- if (g > 0L && t >= g) 1 + 0.5 * (t - g) else 0
      rows[[length(rows) + 1L]] <- data.frame(unit = uid, time = t, first_treat = g,
                                              y = c_i + 0.5 * t + effect + u)
    }
    uid <- uid + 1L
  }
}
panel <- do.call(rbind, rows)
# the CSV that ../stata/didimputation_parity.do reads (diff-diff's didimputation_test_panel.csv)
write.csv(panel, "didimputation_test_panel.csv", row.names = FALSE)

overall <- did_imputation(data = panel, yname = "y", gname = "first_treat", tname = "time",
                          idname = "unit", cluster_var = "unit")
print(overall, digits = 13)   # std.error -> R_OVERALL_SE (estimate not used: see the test)
es <- did_imputation(data = panel, yname = "y", gname = "first_treat", tname = "time",
                     idname = "unit", horizon = TRUE, cluster_var = "unit")
print(es, digits = 13)        # std.error by term tau0..tau5 -> R_EVENT_SE
