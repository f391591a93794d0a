# Contrast-based random-effects network meta-analysis in JAGS (Dias et al. 2011, NICE DSU TSD2),
# run by benchmarks/bench_vs_jags.py.
#
# Usage:
#   Rscript benchmarks/jags_nma.R DATA.csv DRAWS.csv n_adapt n_burnin n_iter n_chains seed glm
#
# DATA.csv: one row per contrast (non-base arm vs its study's base arm), columns
#   study  1..S, two-arm studies first, then multi-arm studies
#   arm    position of the arm in the study, 2..n_arms (1 is the base arm)
#   t, b   1-based indices of the arm's and the base arm's treatment
#   y      contrast of arm t vs base arm b
#   var    seTE^2 - se_base^2 (multi-arm) or seTE^2 (two-arm)
#   cov    se_base^2 (multi-arm) or 0 (two-arm)
#   ref    1-based index of the reference treatment (same on every row)
#   nt     number of treatments (same on every row)
# so the study's contrasts have covariance V_i = diag(var) + cov * J.
#
# Model. The shared-base-arm trick writes V_i with one latent error per multi-arm study:
#   y[i,k] = delta[i,k] + eb[i] + e[i,k],  eb[i] ~ N(0, cov[i]),  e[i,k] ~ N(0, var[i,k]);
# two-arm studies need no latent error (y ~ N(delta, seTE^2)). The random effects
#   delta[i, 2..n_arms] ~ MVN(d[t] - d[b], tau^2 (I + J) / 2)
# are written as TSD2's sequence of univariate conditionals: delta[i,k] given the earlier arms
# has mean d[t] - d[b] + sum(w[i,1:(k-1)]) / (k - 1), w the earlier arms' deviations (w[i,1] = 0
# for the base arm), and variance tau^2 k / (2 (k - 1)).
# Priors: d[t] ~ N(0, 100^2) for t != ref, d[ref] = 0; tau ~ U(0, 5).
#
# Writes the monitored draws (d[t] for t != ref, and tau) of every chain to DRAWS.csv and prints
# one line "JAGS_JSON:{...}" with the timings (seconds) of the steps and the peak RSS (MB).

t_start <- proc.time()[["elapsed"]]
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 8) {
  stop("usage: Rscript jags_nma.R DATA.csv DRAWS.csv n_adapt n_burnin n_iter n_chains seed glm")
}
data_csv <- args[1]
draws_csv <- args[2]
n_adapt <- as.integer(args[3])
n_burnin <- as.integer(args[4])
n_iter <- as.integer(args[5])
n_chains <- as.integer(args[6])
seed <- as.integer(args[7])
use_glm <- as.logical(as.integer(args[8]))

suppressPackageStartupMessages(library(rjags))
if (use_glm) invisible(load.module("glm", quiet = TRUE))
t_loaded <- proc.time()[["elapsed"]]

long <- read.csv(data_csv)
ns <- max(long$study)
nt <- long$nt[1]
ref <- long$ref[1]
na <- as.integer(tabulate(long$study, nbins = ns) + 1L)  # arms per study
n2 <- sum(na == 2L)  # two-arm studies come first
if (n2 > 0 && any(na[seq_len(n2)] != 2L)) stop("two-arm studies must come first")
max_arms <- max(na)
t_mat <- matrix(NA_integer_, ns, max_arms)
y_mat <- matrix(NA_real_, ns, max_arms)
prec_mat <- matrix(NA_real_, ns, max_arms)
base <- integer(ns)
prec_base <- rep(NA_real_, ns)
idx <- cbind(long$study, long$arm)
t_mat[idx] <- long$t
y_mat[idx] <- long$y
prec_mat[idx] <- 1 / long$var
base[long$study] <- long$b
t_mat[, 1] <- base
prec_base[long$study] <- ifelse(long$cov > 0, 1 / long$cov, NA_real_)

# The model text has a block for two-arm studies and one for multi-arm studies, each only if
# there are such studies (a JAGS loop over an empty range is an error).
two_arm <- "
  for (i in 1:N2) {
    y[i, 2] ~ dnorm(delta[i, 2], prec[i, 2])
    delta[i, 2] ~ dnorm(d[t[i, 2]] - d[t[i, 1]], prec_tau)
  }"
multi_arm <- "
  for (i in (N2 + 1):NS) {
    eb[i] ~ dnorm(0, prec_b[i])
    w[i, 1] <- 0
    for (k in 2:na[i]) {
      y[i, k] ~ dnorm(delta[i, k] + eb[i], prec[i, k])
      delta[i, k] ~ dnorm(md[i, k], prec_tau * 2 * (k - 1) / k)
      md[i, k] <- d[t[i, k]] - d[t[i, 1]] + sum(w[i, 1:(k - 1)]) / (k - 1)
      w[i, k] <- delta[i, k] - (d[t[i, k]] - d[t[i, 1]])
    }
  }"
model_text <- paste0(
  "model {",
  if (n2 > 0) two_arm else "",
  if (n2 < ns) multi_arm else "",
  "
  d[ref] <- 0
  for (m in 1:(NT - 1)) {
    d[others[m]] ~ dnorm(0, 1.0E-4)
  }
  tau ~ dunif(0, 5)
  prec_tau <- pow(tau, -2)
}
"
)
others <- setdiff(seq_len(nt), ref)
data <- list(
  y = y_mat, prec = prec_mat, t = t_mat, NT = nt, ref = ref, others = others, N2 = n2, NS = ns
)
if (n2 < ns) {
  data$prec_b <- prec_base
  data$na <- na
}

# Dispersed but sensible starting values (as gemtc draws them around a first estimate): d from
# N(0, 1) on the effect scale, tau from U(0.05, 1); each chain its own RNG stream.
set.seed(seed)
inits <- lapply(seq_len(n_chains), function(ch) {
  d_init <- rep(NA_real_, nt)
  d_init[others] <- rnorm(nt - 1)
  list(
    d = d_init, tau = runif(1, 0.05, 1),
    .RNG.name = "base::Mersenne-Twister", .RNG.seed = seed * 1000L + ch
  )
})

model <- jags.model(
  textConnection(model_text),
  data = data, inits = inits, n.chains = n_chains, n.adapt = n_adapt, quiet = TRUE
)
t_adapted <- proc.time()[["elapsed"]]
update(model, n.iter = n_burnin, progress.bar = "none")
t_burned <- proc.time()[["elapsed"]]
samples <- coda.samples(model, c("d", "tau"), n.iter = n_iter, progress.bar = "none")
t_sampled <- proc.time()[["elapsed"]]

keep <- c(sprintf("d[%d]", others), "tau")
out <- do.call(rbind, lapply(seq_along(samples), function(ch) {
  m <- as.matrix(samples[[ch]])[, keep, drop = FALSE]
  data.frame(chain = ch, draw = seq_len(nrow(m)), m, check.names = FALSE)
}))
write.csv(out, draws_csv, row.names = FALSE)
t_end <- proc.time()[["elapsed"]]

# Peak resident memory of this process (Linux: VmHWM, kB). Not getrusage's ru_maxrss: that
# also counts the parent's memory at fork (it survives exec), e.g. a large Python parent's.
peak_rss_mb <- tryCatch({
  status <- readLines("/proc/self/status")
  as.numeric(gsub("[^0-9]", "", grep("^VmHWM:", status, value = TRUE))) / 1024
}, error = function(e) NA_real_)

cat(sprintf(
  paste0(
    "JAGS_JSON:{\"load_s\": %.4f, \"compile_adapt_s\": %.4f, \"burnin_s\": %.4f, ",
    "\"sample_s\": %.4f, \"write_s\": %.4f, \"in_process_s\": %.4f, \"jags\": \"%s\", ",
    "\"rjags\": \"%s\", \"R\": \"%s\", \"glm\": %s, \"peak_rss_mb\": %s}\n"
  ),
  t_loaded - t_start, t_adapted - t_loaded, t_burned - t_adapted, t_sampled - t_burned,
  t_end - t_sampled, t_end - t_start, as.character(jags.version()),
  as.character(packageVersion("rjags")), paste(R.version$major, R.version$minor, sep = "."),
  tolower(as.character(use_glm)), if (is.na(peak_rss_mb)) "null" else sprintf("%.1f", peak_rss_mb)
))
