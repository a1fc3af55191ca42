"""Check runs: a model version judged against its effective policy."""
