"""Applications: programs that wire several layers together (sandbox, evaluation, RL,
monitoring). They sit above the layers; nothing in a layer imports from here.

- :mod:`codeeval_rl.apps.quickstart`: the offline quickstart (``codeeval-rl quickstart``).
"""
