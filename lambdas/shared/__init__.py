"""Code every function shares: the risk event model, settings, storage and observability."""
