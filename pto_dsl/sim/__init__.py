"""A Python model of the PTO2 runtime: rings, TensorMap, scopes, numerics and timing."""
