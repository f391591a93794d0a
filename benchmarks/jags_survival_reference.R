# Summaries of benchmarks/jags_survival.R draws for the survival references in
# tests/fitting/data/ (see its README.md): one row per statistic, columns
#   model, quantity, treatment, comparator, mean, sd, median, lower95, upper95, ess_bulk, rhat
# mean, sd, median and the 2.5% / 97.5% quantiles over the draws of all chains; ess_bulk =
# coda::effectiveSize over the chains (summed), rhat = coda::gelman.diag's point estimate
# (autoburnin = FALSE, one quantity at a time).
#
# Usage:
#   Rscript benchmarks/jags_survival_reference.R ndmm DRAWS.csv STUDIES OUT.csv
#     weibull_fe draws of the ndmm network (treatments Pbo = 1, Len = 2, Thal = 3); STUDIES =
#     the study names in the order of the study index, comma separated. Rows: model
#     weibull_PH_FE, quantity logHR (d[2], d[3], treatment Len / Thal vs Pbo) and shape
#     (alpha[s], treatment = the study name, comparator empty).
#   The FP runs' draws (fp_fe / fp_fe_rp / fp_re_*_rp) are summarised by
#   benchmarks/summarise_fp_jags.py (ArviZ's ESS and R-hat).

suppressPackageStartupMessages(library(coda))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 4 || args[1] != "ndmm") {
  stop("usage: Rscript jags_survival_reference.R ndmm DRAWS.csv STUDIES OUT.csv")
}

read_draws <- function(path) read.csv(path, check.names = FALSE)

# One summary row of a quantity given as a vector of draws and the chain of each draw.
summ <- function(model, quantity, treatment, comparator, x, chain) {
  ml <- mcmc.list(lapply(split(x, chain), mcmc))
  q <- quantile(x, c(0.5, 0.025, 0.975), names = FALSE)
  data.frame(
    model = model, quantity = quantity, treatment = treatment, comparator = comparator,
    mean = mean(x), sd = sd(x), median = q[1], lower95 = q[2], upper95 = q[3],
    ess_bulk = unname(effectiveSize(ml)),
    rhat = gelman.diag(ml, autoburnin = FALSE, multivariate = FALSE)$psrf[1, 1]
  )
}

x <- read_draws(args[2])
studies <- strsplit(args[3], ",")[[1]]
out <- rbind(
  summ("weibull_PH_FE", "logHR", "Len", "Pbo", x[["d[2]"]], x$chain),
  summ("weibull_PH_FE", "logHR", "Thal", "Pbo", x[["d[3]"]], x$chain),
  do.call(rbind, lapply(seq_along(studies), function(s) {
    summ("weibull_PH_FE", "shape", studies[s], "", x[[sprintf("alpha[%d]", s)]], x$chain)
  }))
)
num <- c("mean", "sd", "median", "lower95", "upper95", "rhat")
out[num] <- lapply(out[num], signif, digits = 7)
out$ess_bulk <- round(out$ess_bulk)
write.csv(out, args[4], row.names = FALSE, na = "")
