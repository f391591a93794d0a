# Arm-based network meta-analysis in JAGS: the generalised linear models of NICE DSU TSD2,
# run by benchmarks/bench_arm_vs_jags.py.
#
# Reference: Dias S, Welton NJ, Sutton AJ, Ades AE. NICE DSU Technical Support Document 2: A
# generalised linear modelling framework for pairwise and network meta-analysis of randomised
# controlled trials (2011, last updated 2016), https://www.sheffield.ac.uk/nice-dsu/tsds; the
# WinBUGS code of its appendix:
#   Program 1(c) binomial likelihood, logit link, random effects (multi-arm trials)
#   Program 1(d) binomial likelihood, logit link, fixed effect
#   Program 2(a) / 2(b) Poisson likelihood, log link, random / fixed effects (Example 2)
#   Program 3(a) / 3(b) binomial likelihood, cloglog link, random / fixed effects (Example 3,
#                incident diabetes; offset log(time))
# and, not in TSD2, the binomial likelihood with a log link (relative effects are log risk
# ratios) as R package gemtc codes it (gemtc/R/ll.binom.log.R): the linear predictor capped at
# -1E-16 so that p < 1, and the study baselines truncated to mu[i] <= 0 (see Model below).
# The model text below is those programs with the variable names kept (mu, delta, md, taud, w,
# sw, d, sd, tau, rhat, dev, resdev, totresdev); what differs is said where it does.
#
# Usage:
#   Rscript benchmarks/jags_arm.R DATA.csv DRAWS.csv likelihood link effects \
#       n_adapt n_burnin n_iter n_chains seed glm [resdev]
#
#   likelihood, link   binomial logit | binomial cloglog | binomial log | poisson log
#   effects            random | fixed
#   glm                1: load JAGS's glm module (block updates of mu, d, delta), 0: don't
#   resdev             1: also compute and monitor TSD2's total residual deviance (totresdev);
#                      default 0 (the benchmark runs leave it out: it is extra work per iteration)
#
# DATA.csv: one row per arm, sorted by study then arm, columns
#   study  1..S
#   arm    1..na within the study (arm 1 is the study's baseline arm, TSD2's t[i,1])
#   t      treatment index 1..T; 1 is the network's reference treatment (d[1] = 0)
#   r      number of events
#   n      number of patients (binomial)
#   E      exposure, e.g. person-years (poisson)
#   time   follow-up (binomial cloglog; TSD2 has one time[i] per study, here it may vary by arm)
#          (binomial log takes study, arm, t, r, n, na, as binomial logit)
#   na     number of arms of the study (same on every row of a study)
#
# Model (TSD2):
#   binomial logit    r[i,k] ~ Bin(p[i,k], n[i,k]),  logit(p[i,k]) = mu[i] + delta[i,k]
#   binomial cloglog  r[i,k] ~ Bin(p[i,k], n[i,k]),  cloglog(p[i,k]) = log(time[i,k]) + mu[i]
#                                                                      + delta[i,k]
#   binomial log      r[i,k] ~ Bin(p[i,k], n[i,k]),  log(p[i,k]) = min(mu[i] + delta[i,k], -1E-16)
#                     (gemtc's binom.log likelihood: the cap keeps p < 1 whatever mu + delta;
#                     above 0 the likelihood is flat in mu + delta)
#   poisson log       r[i,k] ~ Poisson(theta[i,k]),  log(theta[i,k]) = log(E[i,k]) + mu[i]
#                                                                      + delta[i,k]
#                     (TSD2 writes theta = lambda * E with log(lambda) = mu + delta: the same
#                     model; the offset form lets the glm module see a GLM)
#   mu[i] ~ N(0, 100^2) (dnorm(0, .0001)); d[1] = 0, d[k] ~ N(0, 100^2) for k = 2..T.
#   binomial log: mu[i] ~ N(0, 100^2) truncated to mu[i] <= 0 (dnorm(0, .0001) T(,0)), so that
#   the baseline arm's risk exp(mu[i]) is at most 1. gemtc truncates the same way but centres
#   the baseline prior at log(0.5) with its own precision (mu[i] ~ dnorm(log(0.5), prior.prec)
#   T(,0)); here it is centred at 0 with precision .0001, as the other families' mu.
#   Random effects: delta[i,1] = 0, and for k = 2..na[i]
#     delta[i,k] ~ N(md[i,k], sd^2 k / (2 (k - 1))),  md[i,k] = d[t[i,k]] - d[t[i,1]] + sw[i,k],
#     sw[i,k] = sum(w[i,1:(k-1)]) / (k - 1),  w[i,k] = delta[i,k] - (d[t[i,k]] - d[t[i,1]]):
#   TSD2's multi-arm correction (the conditionals of delta[i,2..na] ~ MVN with covariance
#   sd^2 / 2 off the diagonal); sd ~ U(0, 5) (TSD2's "sd", written as tau in the draws).
#   Fixed effect: delta[i,k] = d[t[i,k]] - d[t[i,1]] (delta[i,1] = 0).
#
# Writes the monitored draws (d[2..T], tau for random effects, totresdev if asked) of every chain
# to DRAWS.csv and prints one line "JAGS_JSON:{...}" with the timings (seconds) of the steps and
# the peak RSS (MB), as jags_nma.R does.

t_start <- proc.time()[["elapsed"]]
args <- commandArgs(trailingOnly = TRUE)
if (!(length(args) %in% c(11, 12))) {
  stop(paste(
    "usage: Rscript jags_arm.R DATA.csv DRAWS.csv likelihood link effects",
    "n_adapt n_burnin n_iter n_chains seed glm [resdev]"
  ))
}
data_csv <- args[1]
draws_csv <- args[2]
likelihood <- args[3]
link <- args[4]
effects <- args[5]
n_adapt <- as.integer(args[6])
n_burnin <- as.integer(args[7])
n_iter <- as.integer(args[8])
n_chains <- as.integer(args[9])
seed <- as.integer(args[10])
use_glm <- as.logical(as.integer(args[11]))
want_resdev <- length(args) == 12 && as.logical(as.integer(args[12]))
family <- paste(likelihood, link)
families <- c("binomial logit", "binomial cloglog", "binomial log", "poisson log")
if (!(family %in% families)) {
  stop("likelihood/link must be one of ", paste(families, collapse = ", "), "; got ", family)
}
if (!(effects %in% c("random", "fixed"))) stop("effects must be random or fixed")
random <- effects == "random"

suppressPackageStartupMessages(library(rjags))
if (use_glm) invisible(load.module("glm", quiet = TRUE))
t_loaded <- proc.time()[["elapsed"]]

# ---------------------------------------------------------------------------------- data
long <- read.csv(data_csv)
long <- long[order(long$study, long$arm), ]
ns <- max(long$study)
nt <- max(long$t)
na <- as.integer(tabulate(long$study, nbins = ns))
if (any(na < 2L)) stop("every study needs at least two arms")
if (any(long$na != na[long$study])) stop("column na disagrees with the arms per study")
if (any(long$arm != sequence(na))) stop("arms must be numbered 1..na within each study")
if (!all(seq_len(nt) %in% long$t)) stop("treatments must be numbered 1..T, all present")
max_arms <- max(na)
as_mat <- function(col) {
  m <- matrix(NA_real_, ns, max_arms)
  m[cbind(long$study, long$arm)] <- long[[col]]
  m
}
data <- list(ns = ns, nt = nt, na = na, t = as_mat("t"), r = as_mat("r"))
if (likelihood == "binomial") data$n <- as_mat("n")
if (likelihood == "poisson") data$E <- as_mat("E")
if (link == "cloglog") data$time <- as_mat("time")

# ---------------------------------------------------------------------------------- model
# Linear predictor and likelihood of arm k of study i (TSD2 Programs 1, 2, 3), and the arm's
# residual deviance contribution (TSD2's dev[i,k]). TSD2's deviance terms r * log(r) and
# (n - r) * log(n - r) are 0 * log(0) = NaN in JAGS for zero-event (or all-event) arms; they are
# written r * log(r + equals(r, 0)) here, which is the same with 0 log 0 = 0.
lik <- switch(family,
  "binomial logit" = "
      r[i, k] ~ dbin(p[i, k], n[i, k])
      logit(p[i, k]) <- mu[i] + delta[i, k]",
  "binomial cloglog" = "
      r[i, k] ~ dbin(p[i, k], n[i, k])
      cloglog(p[i, k]) <- log(time[i, k]) + mu[i] + delta[i, k]",
  "binomial log" = "
      r[i, k] ~ dbin(p[i, k], n[i, k])
      log(p[i, k]) <- min(mu[i] + delta[i, k], -1E-16)",
  "poisson log" = "
      r[i, k] ~ dpois(theta[i, k])
      log(theta[i, k]) <- log(E[i, k]) + mu[i] + delta[i, k]"
)
dev <- if (likelihood == "binomial") "
      rhat[i, k] <- p[i, k] * n[i, k]
      dev[i, k] <- 2 * (r[i, k] * (log(r[i, k] + equals(r[i, k], 0)) - log(rhat[i, k]))
        + (n[i, k] - r[i, k]) * (log(n[i, k] - r[i, k] + equals(n[i, k], r[i, k]))
        - log(n[i, k] - rhat[i, k])))" else "
      dev[i, k] <- 2 * ((theta[i, k] - r[i, k])
        + r[i, k] * (log(r[i, k] + equals(r[i, k], 0)) - log(theta[i, k])))"
re <- "
    w[i, 1] <- 0
    for (k in 2:na[i]) {
      delta[i, k] ~ dnorm(md[i, k], taud[i, k])
      md[i, k] <- d[t[i, k]] - d[t[i, 1]] + sw[i, k]
      taud[i, k] <- tau * 2 * (k - 1) / k
      w[i, k] <- (delta[i, k] - d[t[i, k]] + d[t[i, 1]])
      sw[i, k] <- sum(w[i, 1:(k - 1)]) / (k - 1)
    }"
fe <- "
    for (k in 2:na[i]) {
      delta[i, k] <- d[t[i, k]] - d[t[i, 1]]
    }"
# Study baseline prior: N(0, 100^2); for the log link truncated to mu[i] <= 0 (gemtc's T(,0)).
mu_prior <- if (family == "binomial log") "dnorm(0, .0001) T(, 0)" else "dnorm(0, .0001)"
model_text <- paste0(
  "model {
  for (i in 1:ns) {
    delta[i, 1] <- 0
    mu[i] ~ ", mu_prior, "
    for (k in 1:na[i]) {", lik, if (want_resdev) dev else "", "
    }",
  if (want_resdev) "
    resdev[i] <- sum(dev[i, 1:na[i]])" else "",
  if (random) re else fe, "
  }",
  if (want_resdev) "
  totresdev <- sum(resdev[])" else "", "
  d[1] <- 0
  for (k in 2:nt) {
    d[k] ~ dnorm(0, .0001)
  }",
  if (random) "
  sd ~ dunif(0, 5)
  tau <- pow(sd, -2)" else "", "
}
"
)

# -------------------------------------------------------------------------- initial values
# Dispersed but sensible starting values, each chain its own RNG stream: mu[i] around the
# baseline arm's observed rate on the linear-predictor scale (0.5 added to the counts), d from
# N(0, 1), sd from U(0.05, 1) (as jags_nma.R). TSD2 gives fixed lists of initial values instead.
# binomial log: every arm's risk must start below 1 (mu[i] <= 0 is the support of mu's
# truncated prior): the baseline risk is dispersed on the logit scale (so exp(mu[i]) < 1), d
# from N(0, 0.1^2), delta (random effects) starts at its mean d[t[i,k]] - d[t[i,1]], and mu[i]
# is lowered where needed so that every arm's starting risk exp(mu[i] + delta[i,k]) <= 0.95.
r1 <- data$r[, 1] + 0.5
eta1 <- switch(family,
  "binomial logit" = log(r1 / (data$n[, 1] - data$r[, 1] + 0.5)),
  "binomial cloglog" = log(-log(1 - r1 / (data$n[, 1] + 1))) - log(data$time[, 1]),
  "binomial log" = log(r1 / (data$n[, 1] + 1)),
  "poisson log" = log(r1 / data$E[, 1])
)
set.seed(seed)
inits <- lapply(seq_len(n_chains), function(ch) {
  if (family == "binomial log") {
    d0 <- c(0, rnorm(nt - 1, sd = 0.1))
    p0 <- plogis(qlogis(exp(eta1)) + rnorm(ns, sd = 0.5))
    rel <- matrix(d0[data$t], ns) - d0[data$t[, 1]]  # d[t[i,k]] - d[t[i,1]], NA past na[i]
    mu0 <- pmin(log(p0), log(0.95) - apply(rel, 1, max, na.rm = TRUE))
    init <- list(mu = mu0, d = c(NA, d0[-1]))
    if (random) init$delta <- cbind(NA, rel[, -1, drop = FALSE])
  } else {
    init <- list(mu = eta1 + rnorm(ns, sd = 0.5), d = c(NA, rnorm(nt - 1)))
  }
  init$.RNG.name <- "base::Mersenne-Twister"
  init$.RNG.seed <- seed * 1000L + ch
  if (random) init$sd <- runif(1, 0.05, 1)
  init
})

model <- jags.model(
  textConnection(model_text),
  data = data, inits = inits, n.chains = n_chains, n.adapt = n_adapt, quiet = TRUE
)
t_adapted <- proc.time()[["elapsed"]]
update(model, n.iter = n_burnin, progress.bar = "none")
t_burned <- proc.time()[["elapsed"]]
monitor <- c("d", if (random) "sd", if (want_resdev) "totresdev")
samples <- coda.samples(model, monitor, n.iter = n_iter, progress.bar = "none")
t_sampled <- proc.time()[["elapsed"]]

keep <- c(sprintf("d[%d]", 2:nt), if (random) "sd", if (want_resdev) "totresdev")
out <- do.call(rbind, lapply(seq_along(samples), function(ch) {
  m <- as.matrix(samples[[ch]])[, keep, drop = FALSE]
  data.frame(chain = ch, draw = seq_len(nrow(m)), m, check.names = FALSE)
}))
names(out)[names(out) == "sd"] <- "tau"  # the between-study SD, called tau by nma_bayes
write.csv(out, draws_csv, row.names = FALSE)
t_end <- proc.time()[["elapsed"]]

# Peak resident memory of this process (Linux: VmHWM, kB), as in jags_nma.R.
peak_rss_mb <- tryCatch({
  status <- readLines("/proc/self/status")
  as.numeric(gsub("[^0-9]", "", grep("^VmHWM:", status, value = TRUE))) / 1024
}, error = function(e) NA_real_)

cat(sprintf(
  paste0(
    "JAGS_JSON:{\"load_s\": %.4f, \"compile_adapt_s\": %.4f, \"burnin_s\": %.4f, ",
    "\"sample_s\": %.4f, \"write_s\": %.4f, \"in_process_s\": %.4f, \"jags\": \"%s\", ",
    "\"rjags\": \"%s\", \"R\": \"%s\", \"glm\": %s, \"peak_rss_mb\": %s, ",
    "\"likelihood\": \"%s\", \"link\": \"%s\", \"effects\": \"%s\", \"resdev\": %s}\n"
  ),
  t_loaded - t_start, t_adapted - t_loaded, t_burned - t_adapted, t_sampled - t_burned,
  t_end - t_sampled, t_end - t_start, as.character(jags.version()),
  as.character(packageVersion("rjags")), paste(R.version$major, R.version$minor, sep = "."),
  tolower(as.character(use_glm)), if (is.na(peak_rss_mb)) "null" else sprintf("%.1f", peak_rss_mb),
  likelihood, link, effects, tolower(as.character(want_resdev))
))
