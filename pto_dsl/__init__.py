"""pto-dsl: a compiler for PTO2 orchestration task graphs."""

__version__ = "0.1.0"
