# Independent JAGS rerun of the certolizumab random-effects meta-regression (TSD3, shared
# interaction on mean disease duration), used where the stored reference
# (jags_tsd3_shared_interaction_RE) disagrees with NUTS; see tests/reference_helpers.py.
#
# Model: the TSD2 binomial/logit random-effects program (Dias et al. 2011, Program 1(c)) with
# TSD3's shared interaction in the mean of the study effects, as the data set's README describes:
#   r[i,k] ~ Bin(p[i,k], n[i,k]), logit(p[i,k]) = mu[i] + delta[i,k], delta[i,1] = 0,
#   delta[i,2] ~ N(d[t2] - d[t1] + (beta[t2] - beta[t1]) (x[i] - xbar), sd^2)  (two-arm studies),
#   beta[1] = 0, beta[k] = B (k > 1); mu, d, B ~ N(0, 100^2); sd ~ U(0, 5).
# Usage: Rscript benchmarks/jags_regression_rerun.R ARMS.csv STUDIES.csv N_ITER SEED
suppressPackageStartupMessages(library(rjags))
invisible(load.module("glm", quiet = TRUE))
args <- commandArgs(trailingOnly = TRUE)
arms <- read.csv(args[1]); studies <- read.csv(args[2])
n_iter <- as.integer(args[3]); seed <- as.integer(args[4])
ids <- unique(arms$study)
trts <- c("Placebo", sort(setdiff(unique(arms$treatment), "Placebo")))
ns <- length(ids)
r <- n <- t <- matrix(NA, ns, 2)
for (i in seq_len(ns)) {
  a <- arms[arms$study == ids[i], ]  # base (placebo) arm first, as stored
  stopifnot(nrow(a) == 2)
  r[i, ] <- a$events; n[i, ] <- a$n; t[i, ] <- match(a$treatment, trts)
}
x <- studies$disease_duration[match(ids, studies$study)]
data <- list(ns = ns, nt = length(trts), r = r, n = n, t = t, x = x, xbar = mean(x))
model_text <- "model {
  for (i in 1:ns) {
    mu[i] ~ dnorm(0, .0001)
    delta[i, 1] <- 0
    delta[i, 2] ~ dnorm(d[t[i, 2]] - d[t[i, 1]] + (beta[t[i, 2]] - beta[t[i, 1]]) * (x[i] - xbar), prec)
    for (k in 1:2) {
      r[i, k] ~ dbin(p[i, k], n[i, k])
      logit(p[i, k]) <- mu[i] + delta[i, k]
    }
  }
  d[1] <- 0
  beta[1] <- 0
  for (k in 2:nt) {
    d[k] ~ dnorm(0, .0001)
    beta[k] <- B
  }
  B ~ dnorm(0, .0001)
  sd ~ dunif(0, 5)
  prec <- pow(sd, -2)
}"
set.seed(seed)
inits <- lapply(1:4, function(ch) list(d = c(NA, rnorm(length(trts) - 1)), B = rnorm(1, 0, 0.1),
  sd = runif(1, 0.1, 1), .RNG.name = "base::Mersenne-Twister", .RNG.seed = seed * 100 + ch))
m <- jags.model(textConnection(model_text), data = data, inits = inits, n.chains = 4,
                n.adapt = 5000, quiet = TRUE)
update(m, 10000, progress.bar = "none")
s <- coda.samples(m, c("d", "B", "sd"), n.iter = n_iter, progress.bar = "none")
keep <- c(sprintf("d[%d]", 2:length(trts)), "B", "sd")
s <- s[, keep]
draws <- as.matrix(s)
ess <- coda::effectiveSize(s)
rhat <- coda::gelman.diag(s, multivariate = FALSE)$psrf[, 1]
labels <- c(trts[-1], "beta", "tau")
out <- data.frame(quantity = labels, mean = colMeans(draws), sd = apply(draws, 2, sd),
  median = apply(draws, 2, median), lower95 = apply(draws, 2, quantile, 0.025),
  upper95 = apply(draws, 2, quantile, 0.975), ess = ess, rhat = rhat)
print(out, digits = 4, row.names = FALSE)
