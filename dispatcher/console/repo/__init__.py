"""Console repositories: async, keyword-only, in the caller's transaction (as store.repo)."""
