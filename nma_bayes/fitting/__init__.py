"""fitting layer of nma_bayes (see ARCHITECTURE.md)."""
