# Cronbach's alpha of pingouin's two example data sets, in R's psych: the reference numbers
# of tests/indices/test_survey.py (test_alpha_matches_the_published_likert_example,
# test_listwise_alpha_matches_the_published_value_with_missing_answers).
#
# Source of the numbers: pingouin 0.7.0, docstring of pingouin.cronbach_alpha ("Results
# have been tested against the psych R package"; "In R: psych:alpha(data,
# use='complete.obs')"): 0.5917188485995826 [0.195, 0.84] and 0.8016949152542373.
# NOT RUN HERE (R not installed). The CSV files are pingouin's datasets
# (pingouin/datasets/cronbach_alpha.csv, cronbach_wide_missing.csv).
#
#     Rscript tests/estimators/references/R/psych_alpha.R <pingouin datasets folder>
library(psych)
folder <- commandArgs(trailingOnly = TRUE)[1]
long <- read.csv(file.path(folder, "cronbach_alpha.csv"))
wide <- reshape(long, idvar = "Subj", timevar = "Items", direction = "wide")[, -1]
print(psych::alpha(wide)$total$raw_alpha)                       # 0.5917
missing <- read.csv(file.path(folder, "cronbach_wide_missing.csv"))
print(psych::alpha(missing, use = "complete.obs")$total$raw_alpha)  # 0.8017
