"""From a source tree to a verified training set: ``codeeval-rl datasets generate``.

Stages (one module each): :mod:`~codeeval_rl.datagen.discover` (select functions),
:mod:`~codeeval_rl.datagen.inputs` (make inputs), :mod:`~codeeval_rl.datagen.oracle` (run
the original and freeze results), :mod:`~codeeval_rl.datagen.testgen` (tests, chosen by
coverage), :mod:`~codeeval_rl.datagen.mutation` (test strength),
:mod:`~codeeval_rl.datagen.question` (the prompt, with or without a model),
:mod:`~codeeval_rl.datagen.secrets` (masking), :mod:`~codeeval_rl.datagen.provenance` and
:mod:`~codeeval_rl.datagen.audit`; :mod:`~codeeval_rl.datagen.pipeline` runs them in order
and :mod:`~codeeval_rl.datagen.javascript` is the same path for JavaScript.
"""
