# Wooldridge, Introductory Econometrics: A Modern Approach, Example 14.1 (effect of job
# training grants on firm scrap rates, JTRAIN): the reference numbers of
# test_wooldridge_example_14_1 in tests/estimators/test_twfe.py.
#
# The test uses grant -0.2523 (0.1506), grant_1 -0.4216 (0.2102), 162 observations of 54
# firms, as quoted in this project's issue 6 (fixed effects with year dummies d88, d89).
# NOT RUN HERE (R not installed), and the book was not at hand to re-check the printed
# digits (see tests/estimators/references/README.md).
# The same regression in R, on the data the test uses (linearmodels' jobtraining is
# Wooldridge's jtrain):
#
#     Rscript tests/estimators/references/R/wooldridge_example_14_1.R
library(wooldridge)   # data(jtrain)
library(fixest)
data(jtrain)
fit <- feols(lscrap ~ grant + grant_1 | fcode + year, data = jtrain, vcov = "iid")
summary(fit)          # grant, grant_1 coefficients and iid standard errors; nobs 162
