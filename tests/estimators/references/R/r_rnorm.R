# R's normal random numbers: the reference of test_r_rnorm_reproduces_r in
# tests/estimators/test_imputation.py (R >= 3.6.0: Mersenne-Twister, "Inversion",
# sample.kind "Rejection", the defaults).
#
# NOT RUN HERE (R not installed); the printed values are the ones R prints and many public
# R tutorials and package READMEs show (checked in tests/estimators/references/README.md).
#
#     Rscript tests/estimators/references/R/r_rnorm.R
RNGkind()                         # "Mersenne-Twister" "Inversion" "Rejection"
set.seed(42); print(rnorm(5), digits = 9)
# [1]  1.37095845 -0.56469817  0.36312841  0.63286260  0.40426832
set.seed(1); print(rnorm(3))
# [1] -0.6264538  0.1836433 -0.8356286
