"""CodeEval RL."""
