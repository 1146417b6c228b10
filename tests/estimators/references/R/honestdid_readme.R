# HonestDiD's README example: the reference numbers of tests/estimators/test_honest.py.
#
# NOT RUN HERE: R is not installed on the machine these tests were written on and CRAN was
# unreachable; the constants were transcribed from the output printed in HonestDiD's
# README.md (see tests/estimators/references/README.md). This is the README's own code, so
# that anyone with R can regenerate them:
#
#     Rscript tests/estimators/references/R/honestdid_readme.R
#
# Source: github.com/asheshrambachan/HonestDiD, README.md at commit
# 0bbadb960ada898f9c17557f11bccc51538d84dd (2024-05-21, DESCRIPTION version 0.2.6) for
# README_SD and README_RM; the same README at commit 9f8379b8f6cc88a82c74616b5eed9ffb822d8e63
# (2023-10-26, version 0.2.5) for README_RM_2023. The C-LF intervals are simulated (1000
# least-favourable draws on a grid): the two commits print different digits for them.
# Packages: HonestDiD (remotes::install_github("asheshrambachan/HonestDiD")), fixest,
# dplyr, haven.
suppressPackageStartupMessages({
  library(dplyr)
  library(haven)
  library(fixest)
  library(HonestDiD)
})
cat("HonestDiD", as.character(packageVersion("HonestDiD")),
    "fixest", as.character(packageVersion("fixest")), "\n")

# Medicaid expansion (ACS, Mixtape-Sessions/Advanced-DID). The test loads the same data as
# moderndid ships it (moderndid.load_ehec()).
df <- read_dta("https://raw.githubusercontent.com/Mixtape-Sessions/Advanced-DID/main/Exercises/Data/ehec_data.dta")
# years before 2016, without the 2015 cohort; D = 1 for states first treated in 2014
df_nonstaggered <- df %>% filter(year < 2016 & (is.na(yexp2) | yexp2 != 2015))
df_nonstaggered <- df_nonstaggered %>% mutate(D = case_when(yexp2 == 2014 ~ 1, TRUE ~ 0))

twfe_results <- fixest::feols(dins ~ i(year, D, ref = 2013) | stfips + year,
                              cluster = "stfips", data = df_nonstaggered)
betahat <- summary(twfe_results)$coefficients
sigma <- summary(twfe_results)$cov.scaled

# Relative magnitudes, C-LF: rows (lb, ub, Mbar) -> README_RM (and README_RM_2023 at the
# 2023 commit). README text: the breakdown value is Mbar = 2.
delta_rm_results <- HonestDiD::createSensitivityResults_relativeMagnitudes(
  betahat = betahat, sigma = sigma, numPrePeriods = 5, numPostPeriods = 2,
  Mbarvec = seq(0.5, 2, by = 0.5)
)
print(delta_rm_results)

# Smoothness, FLCI: rows (lb, ub, M) -> README_SD. README text: breakdown M ~ 0.03.
delta_sd_results <- HonestDiD::createSensitivityResults(
  betahat = betahat, sigma = sigma, numPrePeriods = 5, numPostPeriods = 2,
  Mvec = seq(from = 0, to = 0.05, by = 0.01)
)
print(delta_sd_results)
