# Node-splitting (Dias et al. 2010; NICE DSU TSD4) of an arm-based binomial-logit random-effects
# network meta-analysis in JAGS, multinma's multi-arm convention; run by
# benchmarks/bench_nodesplit_vs_jags.py.
#
# References: Dias S, Welton NJ, Caldwell DM, Ades AE. Checking consistency in mixed treatment
# comparison meta-analysis. Stat Med 2010; 29: 932-944. NICE DSU Technical Support Document 4:
# inconsistency in networks of evidence based on randomised controlled trials (2011, updated 2014),
# https://www.sheffield.ac.uk/nice-dsu/tsds. Phillippo DM, multinma: nma(consistency = "nodesplit").
#
# Usage:
#   Rscript benchmarks/jags_nodesplit.R DATA.csv DRAWS.csv SUMMARY.csv pairs \
#       n_adapt n_burnin n_iter n_chains seed glm
#
#   pairs   comma-separated "x:y" treatment indices (x < y), one node-split each, e.g.
#           "1:2,1:3,2:3"; "all": every pair some study compares directly. The consistency
#           model is always fitted first (fit "consistency"), then one model per pair.
#   glm     1: load JAGS's glm module, 0: don't
#
# DATA.csv: one row per arm, columns study (1..S), arm (1..na within the study), t (treatment
# index 1..T, the network's order; 1 is the reference, d[1] = 0), r (events), n (patients),
# na (arms of the study). Within a study the arms must be in increasing t (so arm 1, the study's
# baseline, is its treatment first in the order), as multinma orders them.
#
# Model (TSD2 Program 1(c), binomial likelihood, logit link, random effects; TSD4 node-split):
#   r[i,k] ~ Bin(p[i,k], n[i,k]),  logit(p[i,k]) = mu[i] + delta[i,k],  delta[i,1] = 0,
#   delta[i,k] ~ N(md[i,k], sd^2 k / (2 (k - 1))) for k = 2..na[i] (TSD2's conditional multi-arm
#   random effects),  md[i,k] = theta[i,k] + sw[i,k],
#   theta[i,k] = d[t[i,k]] - d[t[i,1]] + omega * split[i,k],
#   w[i,k] = delta[i,k] - theta[i,k],  sw[i,k] = sum(w[i,1:(k-1)]) / (k - 1).
#   Split of y vs x (x earlier in the treatment order): every arm is kept (multinma's convention,
#   not gemtc's, which drops a third arm), and split[i,k] = 1 on the y arm of every study that
#   has both x and y (0 elsewhere): in those studies the effect of y vs x is
#   direct = d[y] - d[x] + omega, elsewhere the consistency effect indirect = d[y] - d[x];
#   omega = direct - indirect is the inconsistency factor.
#   Priors: mu[i], d[k] (k >= 2), omega ~ N(0, 100^2); sd ~ U(0, 5) (written out as tau).
#
# Initial values as jags_arm.R: mu around the baseline arm's observed log-odds, d ~ N(0, 1),
# omega ~ N(0, 1), sd ~ U(0.05, 1), each chain its own RNG stream (seed * 1000 + chain; the
# split fits use the same seeds as the consistency fit).
#
# Writes the draws of every fit to DRAWS.csv (columns fit, chain, draw, d[2..T], tau, and for the
# splits omega, direct, indirect; fit is "consistency" or "x:y"), and to SUMMARY.csv one row per
# fit and quantity: median, mean, sd, coda's effectiveSize (summed over the chains, as coda
# does for an mcmc.list) and the fit's timings (compile_adapt_s, burnin_s, sample_s). Prints one
# line "JAGS_JSON:{...}" with the totals (seconds) and the peak RSS (MB).

t_start <- proc.time()[["elapsed"]]
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 10) {
  stop(paste(
    "usage: Rscript jags_nodesplit.R DATA.csv DRAWS.csv SUMMARY.csv pairs",
    "n_adapt n_burnin n_iter n_chains seed glm"
  ))
}
data_csv <- args[1]
draws_csv <- args[2]
summary_csv <- args[3]
pairs_arg <- args[4]
n_adapt <- as.integer(args[5])
n_burnin <- as.integer(args[6])
n_iter <- as.integer(args[7])
n_chains <- as.integer(args[8])
seed <- as.integer(args[9])
use_glm <- as.logical(as.integer(args[10]))

suppressPackageStartupMessages(library(rjags))  # attaches coda
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
if (any(diff(long$t)[diff(long$study) == 0] <= 0)) {
  stop("within a study the arms must be in increasing treatment index (multinma's order)")
}
max_arms <- max(na)
as_mat <- function(col) {
  m <- matrix(NA_real_, ns, max_arms)
  m[cbind(long$study, long$arm)] <- long[[col]]
  m
}
tmat <- as_mat("t")
base_data <- list(ns = ns, nt = nt, na = na, t = tmat, r = as_mat("r"), n = as_mat("n"))
has <- function(i, x) any(tmat[i, seq_len(na[i])] == x)
direct_studies <- function(x, y) which(vapply(seq_len(ns), function(i) has(i, x) && has(i, y), NA))

if (pairs_arg == "all") {
  pairs <- list()
  for (x in 1:(nt - 1)) for (y in (x + 1):nt) {
    if (length(direct_studies(x, y))) pairs[[length(pairs) + 1]] <- c(x, y)
  }
} else {
  pairs <- lapply(strsplit(strsplit(pairs_arg, ",")[[1]], ":"), as.integer)
}
for (p in pairs) {
  if (length(p) != 2 || anyNA(p) || p[1] >= p[2] || p[1] < 1 || p[2] > nt) {
    stop("pairs must be x:y with 1 <= x < y <= T; got ", pairs_arg)
  }
  if (!length(direct_studies(p[1], p[2]))) stop("no study compares ", p[1], " and ", p[2])
}

# ---------------------------------------------------------------------------------- model
model_text <- function(split) {
  omega_term <- if (split) " + omega * split[i, k]" else ""
  paste0("model {
  for (i in 1:ns) {
    delta[i, 1] <- 0
    w[i, 1] <- 0
    mu[i] ~ dnorm(0, .0001)
    for (k in 1:na[i]) {
      r[i, k] ~ dbin(p[i, k], n[i, k])
      logit(p[i, k]) <- mu[i] + delta[i, k]
    }
    for (k in 2:na[i]) {
      theta[i, k] <- d[t[i, k]] - d[t[i, 1]]", omega_term, "
      delta[i, k] ~ dnorm(md[i, k], taud[i, k])
      md[i, k] <- theta[i, k] + sw[i, k]
      taud[i, k] <- tau * 2 * (k - 1) / k
      w[i, k] <- delta[i, k] - theta[i, k]
      sw[i, k] <- sum(w[i, 1:(k - 1)]) / (k - 1)
    }
  }
  d[1] <- 0
  for (k in 2:nt) {
    d[k] ~ dnorm(0, .0001)
  }
  sd ~ dunif(0, 5)
  tau <- pow(sd, -2)",
  if (split) "
  omega ~ dnorm(0, .0001)
  indirect <- d[ty] - d[tx]
  direct <- indirect + omega" else "", "
}
")
}

r1 <- base_data$r[, 1] + 0.5
eta1 <- log(r1 / (base_data$n[, 1] - base_data$r[, 1] + 0.5))

fit_one <- function(pair) {
  split <- !is.null(pair)
  data <- base_data
  if (split) {
    sm <- matrix(0, ns, max_arms)
    for (i in direct_studies(pair[1], pair[2])) sm[i, which(tmat[i, ] == pair[2])] <- 1
    data$split <- sm
    data$tx <- pair[1]
    data$ty <- pair[2]
  }
  set.seed(seed)
  inits <- lapply(seq_len(n_chains), function(ch) {
    init <- list(
      mu = eta1 + rnorm(ns, sd = 0.5), d = c(NA, rnorm(nt - 1)), sd = runif(1, 0.05, 1),
      .RNG.name = "base::Mersenne-Twister", .RNG.seed = seed * 1000L + ch
    )
    if (split) init$omega <- rnorm(1)
    init
  })
  t0 <- proc.time()[["elapsed"]]
  model <- jags.model(
    textConnection(model_text(split)),
    data = data, inits = inits, n.chains = n_chains, n.adapt = n_adapt, quiet = TRUE
  )
  t1 <- proc.time()[["elapsed"]]
  if (n_burnin > 0) update(model, n.iter = n_burnin, progress.bar = "none")
  t2 <- proc.time()[["elapsed"]]
  monitor <- c("d", "sd", if (split) c("omega", "direct", "indirect"))
  samples <- coda.samples(model, monitor, n.iter = n_iter, progress.bar = "none")
  t3 <- proc.time()[["elapsed"]]
  keep <- c(sprintf("d[%d]", 2:nt), "sd", if (split) c("omega", "direct", "indirect"))
  samples <- samples[, keep]
  fit_name <- if (split) paste(pair, collapse = ":") else "consistency"
  ess <- effectiveSize(samples)
  all_draws <- as.matrix(samples)
  summ <- data.frame(
    fit = fit_name, quantity = sub("^sd$", "tau", keep),
    median = apply(all_draws, 2, median), mean = colMeans(all_draws),
    sd = apply(all_draws, 2, stats::sd), ess_coda = as.numeric(ess[keep]),
    compile_adapt_s = t1 - t0, burnin_s = t2 - t1, sample_s = t3 - t2,
    row.names = NULL
  )
  draws <- do.call(rbind, lapply(seq_along(samples), function(ch) {
    m <- as.matrix(samples[[ch]])
    data.frame(fit = fit_name, chain = ch, draw = seq_len(nrow(m)), m, check.names = FALSE)
  }))
  names(draws)[names(draws) == "sd"] <- "tau"
  list(summary = summ, draws = draws)
}

fits <- c(list(fit_one(NULL)), lapply(pairs, fit_one))
t_fitted <- proc.time()[["elapsed"]]

summ <- do.call(rbind, lapply(fits, `[[`, "summary"))
cols <- c("fit", "chain", "draw", sprintf("d[%d]", 2:nt), "tau", "omega", "direct", "indirect")
draws <- do.call(rbind, lapply(fits, function(f) {
  for (col in setdiff(cols, names(f$draws))) f$draws[[col]] <- NA_real_
  f$draws[, cols]
}))
write.csv(draws, draws_csv, row.names = FALSE)
write.csv(summ, summary_csv, row.names = FALSE)
t_end <- proc.time()[["elapsed"]]

# Peak resident memory of this process (Linux: VmHWM, kB), as in jags_nma.R.
peak_rss_mb <- tryCatch({
  status <- readLines("/proc/self/status")
  as.numeric(gsub("[^0-9]", "", grep("^VmHWM:", status, value = TRUE))) / 1024
}, error = function(e) NA_real_)

per_fit <- summ[!duplicated(summ$fit), ]
cat(sprintf(
  paste0(
    "JAGS_JSON:{\"load_s\": %.4f, \"compile_adapt_s\": %.4f, \"burnin_s\": %.4f, ",
    "\"sample_s\": %.4f, \"fits_s\": %.4f, \"write_s\": %.4f, \"in_process_s\": %.4f, ",
    "\"n_fits\": %d, \"pairs\": \"%s\", \"jags\": \"%s\", \"rjags\": \"%s\", \"coda\": \"%s\", ",
    "\"R\": \"%s\", \"glm\": %s, \"peak_rss_mb\": %s}\n"
  ),
  t_loaded - t_start, sum(per_fit$compile_adapt_s), sum(per_fit$burnin_s),
  sum(per_fit$sample_s), t_fitted - t_loaded, t_end - t_fitted, t_end - t_start,
  length(fits), paste(vapply(pairs, paste, "", collapse = ":"), collapse = ","),
  as.character(jags.version()), as.character(packageVersion("rjags")),
  as.character(packageVersion("coda")), paste(R.version$major, R.version$minor, sep = "."),
  tolower(as.character(use_glm)), if (is.na(peak_rss_mb)) "null" else sprintf("%.1f", peak_rss_mb)
))
