"""A Python model of the PTO2 runtime for pto-run: the runtime's submit API and rules
(rings, TensorMap, scopes, fatal errors), a discrete-event timing model, NumPy numerics,
and the lowering of the structured IR into calls on that API (see docs/simulator.md)."""
