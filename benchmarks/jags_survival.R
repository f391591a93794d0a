# Survival network meta-analysis in JAGS: fixed-effect piecewise-exponential (PWE) and
# fractional-polynomial (FP) models for grouped (interval) data, and a Weibull proportional
# hazards model for individual event times. Used for the long-run references in
# tests/fitting/data/ (see its README.md) and for speed benchmarks.
#
# References:
#   pwe_fe, fp_fe: R package gemtcPlus (GitHub Roche/gemtcPlus, version 1.0.0), the fixed-effect
#     PWE and FP models of its articles example-nma-groupedTTE-PWE / -FP; the FP model is that of
#     Jansen JP (2011), Network meta-analysis of survival data with fractional polynomials, BMC Med
#     Res Methodol 11:61.
#   weibull_fe: the Weibull proportional hazards model with multinma's parametrisation (R package
#     multinma, likelihood "weibull": h(t) = alpha exp(eta) t^(alpha - 1)).
# The model text below is written out here; variable names follow gemtcPlus (mu, d) where they can.
#
# Usage:
#   Rscript benchmarks/jags_survival.R DATA.csv DRAWS.csv model \
#       n_adapt n_burnin n_iter n_chains seed [dic [thin]]
#
#   model   pwe_fe | fp_fe | fp_fe_rp | fp_re_ln_rp | fp_re_u2_rp | weibull_fe
#           (fp_fe_rp: fp_fe reparametrised, see Models; fp_re_*_rp: with gemtcPlus's random
#           intercepts, REINT, tau^2 ~ LN(-2.71, 1.74^2) or tau ~ U(0, 2))
#   dic     1: after sampling, run rjags::dic.samples(type = "pD") for n_iter further iterations
#           and write DRAWS.csv's companion DRAWS.dic.csv (DRAWS.csv with ".csv" replaced by
#           ".dic.csv") with columns mean_deviance, pD, DIC; default 0
#   thin    keep every thin-th iteration in DRAWS.csv (n_iter iterations are run, n_iter / thin
#           kept per chain); default 1
#
# Seeds: chain c starts from .RNG.name = "base::Mersenne-Twister", .RNG.seed = seed + c, and its
# initial values are drawn in R after set.seed(seed), so a run is reproducible. JAGS's glm module
# is NOT loaded (its block samplers bias some models); every node gets JAGS's default samplers.
#
# DATA.csv, grouped intervals (pwe_fe, fp_fe): one row per interval, columns
#   study  1..S
#   arm    1..na within the study (arm 1 is the study's baseline arm)
#   t      treatment index 1..T of the arm; 1 is the network's reference treatment
#   base   treatment index of the study's arm 1
#   r      number of events in the interval
#   n      number at risk at the start of the interval
#   dt     width of the interval
#   tmid   midpoint of the interval (not used by the models; f1, f2 carry the time)
#   seg    PWE segment 1..K of the interval (by its start time); fp_fe ignores it
#   f1, f2 FP basis functions at tmid (e.g. f1 = log(tmid), f2 = tmid); pwe_fe ignores them.
#          FP2 (three coefficients) when f2 is not all 0, FP1 (two coefficients) otherwise.
#
# DATA.csv, event times (weibull_fe): one row per patient, columns
#   study, arm, t, base  as above
#   time                 event or censoring time (> 0)
#   status               1 event, 0 censored
#
# Models (i: a row; s = study[i]; priors N(0, 100^2) are dnorm(0, 1e-4)):
#   pwe_fe      r[i] ~ Bin(1 - exp(-h[i] dt[i]), n[i]),
#               log h[i] = mu[s, k] + d[t[i], k] - d[base[i], k], k = seg[i];
#               mu[s, k] ~ N(0, 100^2); d[1, k] = 0, d[j, k] ~ N(0, 100^2) for j = 2..T.
#   fp_fe       r[i] ~ Bin(1 - exp(-h[i] dt[i]), n[i]),
#               log h[i] = (mu[s, 1] + d[t[i], 1] - d[base[i], 1])
#                        + (mu[s, 2] + d[t[i], 2] - d[base[i], 2]) f1[i]
#                        [+ (mu[s, 3] + d[t[i], 3] - d[base[i], 3]) f2[i]    FP2 only];
#               every mu[s, p] ~ N(0, 100^2) and d[j, p] ~ N(0, 100^2) for j = 2..T, all
#               independent (gemtcPlus's dmnorm with a diagonal precision); d[1, p] = 0.
#   fp_fe_rp    the same model and posterior as fp_fe, sampled in other coordinates so that
#               JAGS's one-node-at-a-time slice sampler mixes (fp_fe needs 10-100x more
#               iterations per effective draw: a curve's intercept and slopes are strongly
#               correlated, so are d's joined by a chain of comparisons, and so are a study's
#               mu and its d's). Not what gemtcPlus runs; use fp_fe to time gemtcPlus's code.
#               Three exact changes of variables, each linear with unit Jacobian, the priors
#               transformed with them:
#               (1) the basis X = (1, f1[, f2]) is written X = G U, G's columns orthogonal in the
#                   inner product weighted by r + 0.5 (Gram-Schmidt), U unit upper triangular;
#                   the coefficients are cmu[s, ] = U mu[s, ], c[j, ] = U d[j, ], so that
#                   X mu = G cmu. As mu[s, ] = U^-1 cmu[s, ], the prior of independent
#                   N(0, 100^2) mu's is, coefficient by coefficient from the last,
#                   cmu[s, q] ~ N(sum_{l > q} U[q, l] mu[s, l], 100^2) (the same for c, d).
#               (2) c[j, ] = c[pa[j], ] + e[j, ], pa[j] the treatment through which j is reached
#                   from treatment 1 in a breadth-first spanning tree of the studies'
#                   comparisons (base, t); e is sampled, with prior
#                   e[j, q] ~ N(sum_{l > q} U[q, l] d[j, l] - c[pa[j], q], 100^2).
#               (3) the study intercepts are centred on the study's arms: with
#                   rel[a, ] = c[t_a, ] - c[base_a, ] for arm a and
#                   dbar[s, q] = sum_{a in s} wa[a, q] rel[a, q] (wa[, q]: the arms' shares of
#                   the study's sum of (r + 0.5) G[, q]^2), cm[s, ] = cmu[s, ] + dbar[s, ] is
#                   sampled, prior cm[s, q] ~ N(sum_{l > q} U[q, l] mu[s, l] + dbar[s, q],
#                   100^2), and log h[i] = sum_q (cm[s, q] + rel[a, q] - dbar[s, q]) G[i, q].
#               mu and d are computed back from them and d is monitored. Given the same seed,
#               the draws differ from fp_fe's; their distribution is the same.
#   weibull_fe  eta[i] = mu[s] + d[t[i]] - d[base[i]],
#               hazard h(x) = alpha[s] exp(eta[i]) x^(alpha[s] - 1), cumulative hazard
#               H(x) = exp(eta[i]) x^alpha[s], log-likelihood of patient i
#               ll[i] = status[i] (log alpha[s] + eta[i] + (alpha[s] - 1) log time[i])
#                       - exp(eta[i]) time[i]^alpha[s]   (exact; right censoring);
#               mu[s] ~ N(0, 100^2); d[1] = 0, d[j] ~ N(0, 100^2) for j = 2..T;
#               alpha[s] ~ half-normal, SD 10 (dnorm(0, 0.01) T(0,)).
#               The likelihood enters by the zeros trick: zeros[i] = 0 ~ Poisson(C - ll[i]),
#               whose log density is ll[i] - C, with the constant C = 1000 (C - ll[i] > 0
#               always: ll[i] <= log(alpha[s] / time[i]) - 1, which is < 1000 unless alpha
#               reaches e^1000 time).
#               No latent censored times are sampled. JAGS's deviance of this model is
#               2 sum(C - ll[i]); the DIC file reports its mean minus the constant 2 N C, i.e.
#               the mean of -2 sum(ll[i]), and pD = that minus -2 sum(ll[i]) at the posterior
#               means of mu, d, alpha (Spiegelhalter's pD, computed in R from the draws):
#               rjags's type "pD" penalty of the Poisson pseudo-data is not the model's (it
#               shrinks by about 1/C), so it is not used for this model.
#
# Writes DRAWS.csv: columns chain, draw and one column per monitored node (the reference's
# constant d[1, .] = 0 left out), the kept iterations of chain 1, then chain 2, ...:
#   pwe_fe      d[j,k], j = 2..T, k = 1..K
#   fp_fe(_rp)  d[j,p], j = 2..T, p = 1..P
#   weibull_fe  d[j], j = 2..T; alpha[s], mu[s], s = 1..S
# and prints one line "JAGS_JSON:{...}" with the timings (seconds) of the steps and the peak RSS
# (MB), as jags_nma.R and jags_arm.R do.

t_start <- proc.time()[["elapsed"]]
args <- commandArgs(trailingOnly = TRUE)
if (!(length(args) %in% 8:10)) {
  stop(paste(
    "usage: Rscript jags_survival.R DATA.csv DRAWS.csv model",
    "n_adapt n_burnin n_iter n_chains seed [dic [thin]]"
  ))
}
data_csv <- args[1]
draws_csv <- args[2]
model_name <- args[3]
n_adapt <- as.integer(args[4])
n_burnin <- as.integer(args[5])
n_iter <- as.integer(args[6])
n_chains <- as.integer(args[7])
seed <- as.integer(args[8])
want_dic <- length(args) >= 9 && as.logical(as.integer(args[9]))
thin <- if (length(args) >= 10) as.integer(args[10]) else 1L
models <- c("pwe_fe", "fp_fe", "fp_fe_rp", "fp_re_ln_rp", "fp_re_u2_rp", "weibull_fe")
# the reparametrised FP models: fixed effects, and random intercepts (gemtcPlus's REINT)
rp <- model_name %in% c("fp_fe_rp", "fp_re_ln_rp", "fp_re_u2_rp")
re <- model_name %in% c("fp_re_ln_rp", "fp_re_u2_rp")
if (!(model_name %in% models)) {
  stop("model must be one of ", paste(models, collapse = ", "), "; got ", model_name)
}
if (is.na(thin) || thin < 1L || n_iter %% thin != 0L) stop("thin must be >= 1 and divide n_iter")

suppressPackageStartupMessages(library(rjags))
t_loaded <- proc.time()[["elapsed"]]

# ---------------------------------------------------------------------------------- data
long <- read.csv(data_csv)
# fp_fe_rp: rows sorted by study and arm (the arms of a study contiguous)
if (rp) long <- long[order(long$study, long$arm), ]
ns <- max(long$study)
nt <- max(long$t)
if (!all(seq_len(ns) %in% long$study)) stop("studies must be numbered 1..S, all present")
if (!all(seq_len(nt) %in% long$t)) stop("treatments must be numbered 1..T, all present")
base_chk <- tapply(long$t[long$arm == 1], long$study[long$arm == 1], unique)
if (any(lengths(base_chk) != 1) || any(long$base != unlist(base_chk)[long$study])) {
  stop("column base must be the treatment of the study's arm 1 on every row")
}
data <- list(N = nrow(long), ns = ns, nt = nt, s = long$study, t = long$t, b = long$base)
grouped <- model_name != "weibull_fe"
if (grouped) {
  if (any(long$r > long$n) || any(long$dt <= 0)) stop("need r <= n and dt > 0")
  data$r <- long$r
  data$n <- long$n
  data$dt <- long$dt
}
if (model_name == "pwe_fe") {
  nseg <- max(long$seg)
  if (!all(seq_len(nseg) %in% long$seg)) stop("segments must be numbered 1..K, all present")
  data$seg <- long$seg
  data$nseg <- nseg
}
fp <- model_name %in% c("fp_fe", "fp_fe_rp", "fp_re_ln_rp", "fp_re_u2_rp")
if (fp) {
  n_coef <- if (any(long$f2 != 0)) 3L else 2L  # FP2 / FP1
  basis <- cbind(1, long$f1, if (n_coef == 3L) long$f2)
}
if (model_name == "fp_fe") {
  data$f1 <- long$f1
  if (n_coef == 3L) data$f2 <- long$f2
}
if (rp) {
  # basis = G %*% U: Gram-Schmidt of the columns (1, f1[, f2]) in the inner product weighted by
  # the events (+ 0.5) of each row; G's columns are orthogonal, U is unit upper triangular.
  w <- long$r + 0.5
  G <- basis
  U <- diag(n_coef)
  for (q in 2:n_coef) {
    for (l in seq_len(q - 1)) {
      U[l, q] <- sum(w * basis[, q] * G[, l]) / sum(w * G[, l]^2)
      G[, q] <- G[, q] - U[l, q] * G[, l]
    }
  }
  # Spanning tree of the network from treatment 1, breadth first over the comparisons (base,
  # t) of the studies: pa[j] is the treatment through which j is reached.
  pa <- rep(NA_integer_, nt)
  pa[1] <- 0L
  frontier <- 1L
  edges <- unique(long[long$t != long$base, c("base", "t")])
  while (length(frontier) > 0) {
    nxt <- integer(0)
    for (k in frontier) {
      nb <- sort(unique(c(edges$t[edges$base == k], edges$base[edges$t == k])))
      for (j in nb[is.na(pa[nb])]) {
        pa[j] <- k
        nxt <- c(nxt, j)
      }
    }
    frontier <- nxt
  }
  if (anyNA(pa)) stop("the network is not connected")
  data$G <- G
  data$U <- U
  data$ncoef <- n_coef
  data$pa <- pa
  # Arms (sorted by study), the arm of each row, and the arms' weights wa in their study.
  arms <- unique(long[, c("study", "arm", "t", "base")])
  ai <- match(paste(long$study, long$arm), paste(arms$study, arms$arm))
  info <- rowsum((long$r + 0.5) * G^2, ai)
  wa <- info / rowsum(info, arms$study)[arms$study, ]
  data$ai <- ai
  data$narm <- nrow(arms)
  data$at <- arms$t
  data$ab <- arms$base
  data$as <- arms$study
  data$a1 <- as.integer(tapply(seq_len(nrow(arms)), arms$study, min))
  data$a2 <- as.integer(tapply(seq_len(nrow(arms)), arms$study, max))
  data$wa <- wa
  data$t <- NULL  # the arms carry the treatments (at, ab)
  data$b <- NULL
  if (re) data$isre <- as.integer(arms$t != arms$base)  # arms with a random study effect
}
zeros_c <- 1000
if (model_name == "weibull_fe") {
  if (any(long$time <= 0)) stop("times must be > 0")
  if (!all(long$status %in% 0:1)) stop("status must be 0 or 1")
  data$logtime <- log(long$time)
  data$status <- long$status
  data$zeros <- rep(0, nrow(long))
  data$C <- zeros_c
}

# ---------------------------------------------------------------------------------- model
model_text <- switch(if (re) "fp_fe_rp" else model_name,
  pwe_fe = "
model {
  for (i in 1:N) {
    r[i] ~ dbin(p[i], n[i])
    p[i] <- 1 - exp(-h[i] * dt[i])
    log(h[i]) <- mu[s[i], seg[i]] + d[t[i], seg[i]] - d[b[i], seg[i]]
  }
  for (j in 1:ns) {
    for (k in 1:nseg) {
      mu[j, k] ~ dnorm(0, 1.0E-4)
    }
  }
  for (k in 1:nseg) {
    d[1, k] <- 0
    for (j in 2:nt) {
      d[j, k] ~ dnorm(0, 1.0E-4)
    }
  }
}
",
  fp_fe = paste0("
model {
  for (i in 1:N) {
    r[i] ~ dbin(p[i], n[i])
    p[i] <- 1 - exp(-h[i] * dt[i])
    log(h[i]) <- (mu[s[i], 1] + d[t[i], 1] - d[b[i], 1])
      + (mu[s[i], 2] + d[t[i], 2] - d[b[i], 2]) * f1[i]",
    if (n_coef == 3L) "
      + (mu[s[i], 3] + d[t[i], 3] - d[b[i], 3]) * f2[i]" else "", "
  }
  for (j in 1:ns) {
    for (q in 1:", n_coef, ") {
      mu[j, q] ~ dnorm(0, 1.0E-4)
    }
  }
  for (q in 1:", n_coef, ") {
    d[1, q] <- 0
    for (j in 2:nt) {
      d[j, q] ~ dnorm(0, 1.0E-4)
    }
  }
}
"),
  fp_fe_rp = paste0("
model {
  for (i in 1:N) {
    r[i] ~ dbin(p[i], n[i])
    p[i] <- 1 - exp(-h[i] * dt[i])
    log(h[i]) <- (cm[s[i], 1] + off[ai[i], 1])
      + (cm[s[i], 2] + off[ai[i], 2]) * G[i, 2]",
    if (n_coef == 3L) "
      + (cm[s[i], 3] + off[ai[i], 3]) * G[i, 3]" else "", "
  }
  for (a in 1:narm) {
    for (q in 1:ncoef) {
      rel[a, q] <- c[at[a], q] - c[ab[a], q]
      off[a, q] <- rel[a, q] - dbar[as[a], q]
    }
  }
  for (j in 1:ns) {
    for (q in 1:ncoef) {
      dbar[j, q] <- inprod(wa[a1[j]:a2[j], q], rel[a1[j]:a2[j], q])
      cm[j, q] ~ dnorm(mmu[j, q] + dbar[j, q], 1.0E-4)
      cmu[j, q] <- cm[j, q] - dbar[j, q]
      mu[j, q] <- cmu[j, q] - mmu[j, q]
    }
    mmu[j, ncoef] <- 0", paste0("
    mmu[j, ", seq_len(n_coef - 1), "] <- inprod(U[", seq_len(n_coef - 1), ", ",
    seq_len(n_coef - 1) + 1, ":ncoef], mu[j, ", seq_len(n_coef - 1) + 1, ":ncoef])",
    collapse = ""), "
  }
  for (q in 1:ncoef) {
    c[1, q] <- 0
    d[1, q] <- 0
  }
  for (j in 2:nt) {
    for (q in 1:ncoef) {
      e[j, q] ~ dnorm(md[j, q] - c[pa[j], q], 1.0E-4)
      c[j, q] <- c[pa[j], q] + e[j, q]
      d[j, q] <- c[j, q] - md[j, q]
    }
    md[j, ncoef] <- 0", paste0("
    md[j, ", seq_len(n_coef - 1), "] <- inprod(U[", seq_len(n_coef - 1), ", ",
    seq_len(n_coef - 1) + 1, ":ncoef], d[j, ", seq_len(n_coef - 1) + 1, ":ncoef])",
    collapse = ""), "
  }
}
"),
  fp_re_ln_rp = "",
  fp_re_u2_rp = "",
  weibull_fe = "
model {
  for (i in 1:N) {
    eta[i] <- mu[s[i]] + d[t[i]] - d[b[i]]
    ll[i] <- status[i] * (log(alpha[s[i]]) + eta[i] + (alpha[s[i]] - 1) * logtime[i])
      - exp(eta[i] + alpha[s[i]] * logtime[i])
    zeros[i] ~ dpois(C - ll[i])
  }
  for (j in 1:ns) {
    mu[j] ~ dnorm(0, 1.0E-4)
    alpha[j] ~ dnorm(0, 0.01) T(0, )
  }
  d[1] <- 0
  for (j in 2:nt) {
    d[j] ~ dnorm(0, 1.0E-4)
  }
}
"
)

model_text_fp_fe_rp <- model_text
if (re) {
  # gemtcPlus's REINT: a random effect on the intercept contrast of each non-base arm,
  # delta[a] ~ N(d[t, 1] - d[b, 1], tau^2), written as the fixed contrast (in off) plus a
  # deviation dev[a] ~ N(0, tau^2) (every study here has two arms: no multi-arm correction).
  # The basis's first column is 1 in both coordinates (U is unit upper triangular), so the
  # deviation adds to the intercept term as it is. tau^2 ~ LN(-2.71, 1.74^2) ("LNvar") or
  # tau ~ U(0, 2) ("Usd02"), gemtcPlus's bth.prior of the FP-RE article.
  fe_text <- sub("model {", "", model_text_fp_fe_rp, fixed = TRUE)
  fe_text <- sub("\\}\\s*$", "", fe_text)  # the closing brace of the model
  model_text <- paste0(
    "model {",
    sub("(cm[s[i], 1] + off[ai[i], 1])", "(cm[s[i], 1] + off[ai[i], 1] + re[ai[i]])",
        fe_text, fixed = TRUE), "
  for (a in 1:narm) {
    dev[a] ~ dnorm(0, prec)
    re[a] <- isre[a] * dev[a]
  }",
    if (model_name == "fp_re_ln_rp") "
  tau2 ~ dlnorm(-2.71, 1 / (1.74 * 1.74))
  tau <- sqrt(tau2)
  prec <- 1 / tau2" else "
  tau ~ dunif(0, 2)
  prec <- 1 / (tau * tau)", "
}
")
}

# -------------------------------------------------------------------------- initial values
# Dispersed but sensible starting values, each chain its own RNG stream. Grouped data: the study
# intercept mu[s, 1] around the crude log event rate of the study's baseline arm (log of events
# / sum(n dt), 0.5 added to the events), the other coefficients near 0 on the scale of their
# basis function (so that the starting hazards are finite for every time). Event times: alpha
# from U(0.7, 1.5), mu around the baseline arm's log of events / sum(time^alpha) (the Weibull
# maximum likelihood of mu for that alpha). d[j, .] near 0 in every model.
set.seed(seed)
arm1 <- long$arm == 1
if (grouped) {
  ev <- tapply(long$r[arm1], long$study[arm1], sum) + 0.5
  ex <- tapply((long$n * long$dt)[arm1], long$study[arm1], sum)
  log_rate <- as.numeric(log(ev / ex))[seq_len(ns)]
}
inits <- lapply(seq_len(n_chains), function(ch) {
  init <- switch(model_name,
    pwe_fe = list(
      mu = matrix(log_rate + rnorm(ns * nseg, sd = 0.3), ns, nseg),
      d = rbind(NA, matrix(rnorm((nt - 1) * nseg, sd = 0.3), nt - 1, nseg))
    ),
    fp_fe = {
      sc <- c(1, max(abs(data$f1)), if (n_coef == 3L) max(abs(data$f2)))
      list(
        mu = cbind(log_rate + rnorm(ns, sd = 0.3),
                   matrix(rnorm(ns * (n_coef - 1)), ns) %*% diag(0.1 / sc[-1], n_coef - 1)),
        d = rbind(NA, matrix(rnorm((nt - 1) * n_coef), nt - 1) %*% diag(0.2 / sc, n_coef))
      )
    },
    fp_re_ln_rp = ,
    fp_re_u2_rp = ,
    fp_fe_rp = {
      sc <- c(1, apply(abs(G[, -1, drop = FALSE]), 2, max))
      mu0 <- cbind(log_rate + rnorm(ns, sd = 0.3),
                   matrix(rnorm(ns * (n_coef - 1)), ns) %*% diag(0.1 / sc[-1], n_coef - 1))
      d0 <- matrix(rnorm((nt - 1) * n_coef), nt - 1) %*% diag(0.2 / sc, n_coef)
      # starting values of the sampled nodes: cm = U mu + dbar, e[j, ] = c[j, ] - c[pa[j], ]
      # with c = U d
      c0 <- rbind(0, d0 %*% t(U))
      cmu0 <- mu0 %*% t(U)
      rel0 <- c0[arms$t, , drop = FALSE] - c0[arms$base, , drop = FALSE]
      dbar0 <- rowsum(wa * rel0, arms$study)
      init_rp <- list(cm = cmu0 + dbar0,
                      e = rbind(NA, c0[-1, , drop = FALSE] - c0[pa[-1], , drop = FALSE]))
      if (model_name == "fp_re_ln_rp") init_rp$tau2 <- runif(1, 0.02, 0.3)
      if (model_name == "fp_re_u2_rp") init_rp$tau <- runif(1, 0.1, 0.6)
      init_rp
    },
    weibull_fe = {
      a0 <- runif(ns, 0.7, 1.5)
      ev <- tapply(long$status[arm1], long$study[arm1], sum) + 0.5
      ex <- sapply(seq_len(ns), function(j) sum(long$time[arm1 & long$study == j]^a0[j]))
      list(
        alpha = a0,
        mu = as.numeric(log(ev / ex)) + rnorm(ns, sd = 0.2),
        d = c(NA, rnorm(nt - 1, sd = 0.2))
      )
    }
  )
  init$.RNG.name <- "base::Mersenne-Twister"
  init$.RNG.seed <- seed + ch
  init
})

model <- jags.model(
  textConnection(model_text),
  data = data, inits = inits, n.chains = n_chains, n.adapt = n_adapt, quiet = TRUE
)
t_adapted <- proc.time()[["elapsed"]]
update(model, n.iter = n_burnin, progress.bar = "none")
t_burned <- proc.time()[["elapsed"]]
monitor <- c("d", if (model_name == "weibull_fe") c("alpha", "mu"), if (re) "tau")
samples <- coda.samples(model, monitor, n.iter = n_iter, thin = thin, progress.bar = "none")
t_sampled <- proc.time()[["elapsed"]]

dic_row <- NULL
if (want_dic) {
  dic <- dic.samples(model, n.iter = n_iter, type = "pD", progress.bar = "none")
  mean_dev <- sum(dic$deviance)
  pd <- sum(dic$penalty)
  if (model_name == "weibull_fe") {
    mean_dev <- mean_dev - 2 * data$N * zeros_c  # -2 sum(ll)
    # pD = Dbar - D(posterior means of mu, d, alpha): rjags's pD of the Poisson pseudo-data
    # is not the model's (it is about 1/C of it).
    pm <- colMeans(as.matrix(samples))
    eta <- pm[sprintf("mu[%d]", long$study)] + c(0, pm[sprintf("d[%d]", 2:nt)])[long$t] -
      c(0, pm[sprintf("d[%d]", 2:nt)])[long$base]
    a <- pm[sprintf("alpha[%d]", long$study)]
    ll_hat <- long$status * (log(a) + eta + (a - 1) * data$logtime) - exp(eta + a * data$logtime)
    pd <- mean_dev + 2 * sum(ll_hat)
  }
  dic_row <- data.frame(mean_deviance = mean_dev, pD = pd, DIC = mean_dev + pd)
}
t_dic <- proc.time()[["elapsed"]]

keep <- switch(model_name,
  pwe_fe = sprintf("d[%d,%d]", rep(2:nt, each = nseg), rep(seq_len(nseg), nt - 1)),
  fp_fe = ,
  fp_fe_rp = sprintf("d[%d,%d]", rep(2:nt, each = n_coef), rep(seq_len(n_coef), nt - 1)),
  fp_re_ln_rp = ,
  fp_re_u2_rp = c(sprintf("d[%d,%d]", rep(2:nt, each = n_coef), rep(seq_len(n_coef), nt - 1)),
                  "tau"),
  weibull_fe = c(sprintf("d[%d]", 2:nt), sprintf("alpha[%d]", seq_len(ns)),
                 sprintf("mu[%d]", seq_len(ns)))
)
out <- do.call(rbind, lapply(seq_along(samples), function(ch) {
  m <- as.matrix(samples[[ch]])[, keep, drop = FALSE]
  data.frame(chain = ch, draw = seq_len(nrow(m)), m, check.names = FALSE)
}))
write.csv(out, draws_csv, row.names = FALSE)
if (want_dic) {
  write.csv(dic_row, sub("(\\.csv)?$", ".dic.csv", draws_csv), row.names = FALSE)
}
t_end <- proc.time()[["elapsed"]]

# Peak resident memory of this process (Linux: VmHWM, kB), as in jags_nma.R.
peak_rss_mb <- tryCatch({
  status <- readLines("/proc/self/status")
  as.numeric(gsub("[^0-9]", "", grep("^VmHWM:", status, value = TRUE))) / 1024
}, error = function(e) NA_real_)

cat(sprintf(
  paste0(
    "JAGS_JSON:{\"load_s\": %.4f, \"compile_adapt_s\": %.4f, \"burnin_s\": %.4f, ",
    "\"sample_s\": %.4f, \"dic_s\": %.4f, \"write_s\": %.4f, \"in_process_s\": %.4f, ",
    "\"jags\": \"%s\", \"rjags\": \"%s\", \"R\": \"%s\", \"glm\": false, \"peak_rss_mb\": %s, ",
    "\"model\": \"%s\", \"n_coef\": %s, \"thin\": %d, \"dic\": %s}\n"
  ),
  t_loaded - t_start, t_adapted - t_loaded, t_burned - t_adapted, t_sampled - t_burned,
  t_dic - t_sampled, t_end - t_dic, t_end - t_start, as.character(jags.version()),
  as.character(packageVersion("rjags")), paste(R.version$major, R.version$minor, sep = "."),
  if (is.na(peak_rss_mb)) "null" else sprintf("%.1f", peak_rss_mb), model_name,
  if (fp) as.character(n_coef) else "null", thin,
  tolower(as.character(want_dic))
))
