# Freireich et al. (1963) remission times: the reference numbers of
# test_freireich_published_numbers in tests/estimators/test_adoption.py.
#
# Source of the numbers: Kleinbaum and Klein, Survival Analysis: A Self-Learning Text, 3rd
# ed. (Springer 2012), chapter 2: Kaplan-Meier table of the 6-MP group, medians 23 and 8
# weeks, log-rank chi-square 16.79 on 1 df. NOT RUN HERE (R not installed); the same numbers
# were recomputed with lifelines 0.30.3 (see tests/estimators/references/README.md).
#
#     Rscript tests/estimators/references/R/freireich_km.R
library(survival)
weeks <- c(6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35,
           1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23)
event <- c(1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, rep(1, 21))
group <- rep(c("6-MP", "placebo"), each = 21)
fit <- survfit(Surv(weeks, event) ~ group)
summary(fit)            # 6-MP survival at 6, 7, 10, 13, 16, 22, 23 weeks -> SIX_MP_KM
print(fit)              # medians 23 (6-MP) and 8 (placebo)
survdiff(Surv(weeks, event) ~ group)   # Chisq = 16.8 on 1 df (16.79 in the book)
