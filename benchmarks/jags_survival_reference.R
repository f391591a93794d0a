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
#   Rscript benchmarks/jags_survival_reference.R grouped FP1_DRAWS.csv FP2_DRAWS.csv OUT.csv
#     fp_fe / fp_fe_rp draws (with their .dic.csv companions) of gemtcPlus's grouped_TTE
#     network (treatments B = 1, A = 2, C = 3, D = 4, E = 5, F = 6), FP1 power 0 and FP2
#     powers (0, 1). Rows: model FP1_FE / FP2_FE; quantity d_0, d_1 (, d_2) = d[j, 1..3] of
#     A, C, D, E, F vs B; HR_month_m, m = 3, 6, ..., 24 = exp(d[j,1] + d[j,2] log(m)
#     [+ d[j,3] m]) summarised on the HR scale; mean_deviance, pD, DIC (value in mean, the other
#     columns empty).

suppressPackageStartupMessages(library(coda))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 4 || !(args[1] %in% c("ndmm", "grouped"))) {
  stop(paste("usage: Rscript jags_survival_reference.R ndmm DRAWS.csv STUDIES OUT.csv |",
             "grouped FP1_DRAWS.csv FP2_DRAWS.csv OUT.csv"))
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

fit_rows <- function(model, dic_csv) {
  dic <- read.csv(dic_csv)
  data.frame(model = model, quantity = c("mean_deviance", "pD", "DIC"), treatment = "",
             comparator = "", mean = c(dic$mean_deviance, dic$pD, dic$DIC), sd = NA,
             median = NA, lower95 = NA, upper95 = NA, ess_bulk = NA, rhat = NA)
}

if (args[1] == "ndmm") {
  x <- read_draws(args[2])
  studies <- strsplit(args[3], ",")[[1]]
  out <- rbind(
    summ("weibull_PH_FE", "logHR", "Len", "Pbo", x[["d[2]"]], x$chain),
    summ("weibull_PH_FE", "logHR", "Thal", "Pbo", x[["d[3]"]], x$chain),
    do.call(rbind, lapply(seq_along(studies), function(s) {
      summ("weibull_PH_FE", "shape", studies[s], "", x[[sprintf("alpha[%d]", s)]], x$chain)
    }))
  )
} else {
  trt <- c("B", "A", "C", "D", "E", "F")
  months <- seq(3, 24, by = 3)
  out <- do.call(rbind, lapply(1:2, function(order) {
    model <- sprintf("FP%d_FE", order)
    path <- args[order + 1]
    x <- read_draws(path)
    n_coef <- order + 1
    rows <- list()
    for (j in 2:6) {
      for (q in seq_len(n_coef)) {
        rows[[length(rows) + 1]] <- summ(model, sprintf("d_%d", q - 1), trt[j], "B",
                                         x[[sprintf("d[%d,%d]", j, q)]], x$chain)
      }
    }
    for (m in months) {
      for (j in 2:6) {
        lhr <- x[[sprintf("d[%d,1]", j)]] + x[[sprintf("d[%d,2]", j)]] * log(m)
        if (n_coef == 3) lhr <- lhr + x[[sprintf("d[%d,3]", j)]] * m
        rows[[length(rows) + 1]] <- summ(model, sprintf("HR_month_%d", m), trt[j], "B",
                                         exp(lhr), x$chain)
      }
    }
    rbind(do.call(rbind, rows), fit_rows(model, sub("\\.csv$", ".dic.csv", path)))
  }))
}
num <- c("mean", "sd", "median", "lower95", "upper95", "rhat")
out[num] <- lapply(out[num], signif, digits = 7)
out$ess_bulk <- round(out$ess_bulk)
write.csv(out, args[4], row.names = FALSE, na = "")
