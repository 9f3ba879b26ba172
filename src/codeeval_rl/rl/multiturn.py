"""Multi-turn repair with execution feedback (RLEF, Gehring et al. 2024), trained with GRPO updates.

An episode runs up to ``max_turns`` turns. Each turn the policy writes code; the code runs on
the task's *public* tests; if they pass the episode ends, otherwise the failure (error, first
failing test) is appended as a user turn::

    Your code failed the following tests:
    <feedback from the evaluation engine>
    Give it another try.

and the policy answers again. The final reward comes from the tests in ``reward_tests`` (hidden
by default) on the last turn's code: ``+1`` if they all pass, else ``-1``, minus
``invalid_code_penalty`` for every turn whose code does not parse. Episodes of one task form
a GRPO group. The episode is trained as one sequence in which the feedback tokens are masked out
of the loss (they were not sampled by the policy); what is trained is exactly the token sequence
the policy saw. Limits: each turn waits for the public-test verdicts of the previous one, so only
the final scoring overlaps generation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from codeeval_rl.config import TrainSettings
from codeeval_rl.monitoring.tracker import Tracker
from codeeval_rl.rl.advantages import group_relative
from codeeval_rl.rl.loop import Batch, StepCallback, Trainer, TrainResult
from codeeval_rl.rl.policy import LLMAdapter, Sample
from codeeval_rl.rl.scoring import Score, Scorer
from codeeval_rl.types import Task

__all__ = ["Episode", "feedback_message", "final_reward", "run_episodes", "train_multiturn"]

FAILED_HEADER = "Your code failed the following tests:"
TRY_AGAIN = "Give it another try."


def feedback_message(feedback: str) -> str:
    """The user turn after a failed attempt (RLEF's wording)."""
    return f"{FAILED_HEADER}\n{feedback.strip() or 'the tests did not pass.'}\n{TRY_AGAIN}"


def final_reward(hidden_passed: bool, invalid_turns: int, penalty: float) -> float:
    """``+1`` or ``-1`` from the final tests, minus ``penalty`` per turn without valid code."""
    return (1.0 if hidden_passed else -1.0) - penalty * invalid_turns


@dataclass
class Episode:
    task: Task
    prompt_ids: list[int]
    ids: list[int]
    """Everything after the prompt: completions and feedback chunks."""
    mask: list[int]
    """1 on completion tokens, 0 on feedback tokens."""
    logprobs: list[float]
    completions: list[str]
    public_scores: list[Score]
    done: bool = False

    @property
    def turns(self) -> int:
        return len(self.completions)


def _feedback_ids(policy: LLMAdapter, task: Task, completions: list[str], feedback: str) -> list[int]:
    """Tokens that carry the feedback into the context. With a chat template: the template's
    rendering between the assistant's answer and the next generation prompt; without one: the
    feedback as Python comments, then the task prompt again, so the model rewrites the body."""
    message = feedback_message(feedback)
    if policy.use_chat_template:
        history: list[dict[str, str]] = [{"role": "user", "content": task.prompt}]
        for c in completions[:-1]:
            history += [{"role": "assistant", "content": c}, {"role": "user", "content": "..."}]
        history.append({"role": "assistant", "content": completions[-1]})
        tok = policy.tokenizer
        before = tok.apply_chat_template(history, tokenize=False)
        after = tok.apply_chat_template(history + [{"role": "user", "content": message}], tokenize=False,
                                        add_generation_prompt=True)
        if after.startswith(before):
            return policy.encode(after[len(before):])
    comment = "\n".join("# " + line for line in message.splitlines())
    return policy.encode("\n" + comment + "\n" + task.prompt)


def run_episodes(policy: LLMAdapter, tasks: Sequence[Task], scorer: Scorer, *, n: int, max_turns: int,
                 temperature: float, top_p: float, max_new_tokens: int) -> list[list[Episode]]:
    """Roll out ``n`` episodes per task; ``result[task][episode]``."""
    first = policy.generate_ids([policy.encode(policy.format_prompt(t.prompt)) for t in tasks], n=n,
                                temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens)
    episodes = [[Episode(t, list(s.prompt_ids), list(s.completion_ids), [1] * len(s.completion_ids),
                         list(s.logprobs), [s.text], []) for s in row] for t, row in zip(tasks, first)]
    flat = [e for row in episodes for e in row]
    for turn in range(1, max_turns + 1):
        active = [e for e in flat if not e.done]
        scores = scorer.score([(e.task, e.completions[-1]) for e in active], "public")
        for e, sc in zip(active, scores):
            e.public_scores.append(sc)
            e.done = sc.passed or turn == max_turns
        retry = [e for e in active if not e.done]
        if not retry:
            break
        contexts = []
        for e in retry:
            fb = _feedback_ids(policy, e.task, e.completions, e.public_scores[-1].feedback)
            e.ids += fb
            e.mask += [0] * len(fb)
            e.logprobs += [0.0] * len(fb)
            contexts.append(e.prompt_ids + e.ids)
        outs = policy.generate_ids(contexts, n=1, temperature=temperature, top_p=top_p,
                                   max_new_tokens=max_new_tokens)
        for e, (s,) in zip(retry, outs):
            e.ids += list(s.completion_ids)
            e.mask += [1] * len(s.completion_ids)
            e.logprobs += list(s.logprobs)
            e.completions.append(s.text)
    return episodes


def train_multiturn(settings: TrainSettings, policy: LLMAdapter, tasks: Sequence[Task], scorer: Scorer,
                    tracker: Tracker | None = None, *, resume: bool = False, on_step: StepCallback | None = None,
                    save_final: bool = True) -> TrainResult:
    """Train ``policy`` in place on multi-turn repair episodes with GRPO updates."""
    s = settings
    tr = Trainer(s, policy, tasks, tracker, kind="train")
    pad = policy.tokenizer.pad_token_id
    with tr.session(scorer, resume, pipelined=False) as rewards:
        while tr.step < tr.total_steps:
            t0 = time.perf_counter()
            # 1. roll out episodes (each turn checked on the public tests)
            step_tasks = tr.next_tasks()
            episodes = run_episodes(policy, step_tasks, scorer, n=s.num_generations, max_turns=s.max_turns,
                                    temperature=s.temperature, top_p=s.top_p, max_new_tokens=s.max_new_tokens)
            generate_s = time.perf_counter() - t0

            # 2. final reward from the hidden tests on the last turn's code
            flat = [e for row in episodes for e in row]
            finals = rewards.wait(rewards.submit([(e.task, e.completions[-1]) for e in flat], s.reward_tests))
            scores = []
            for e, f in zip(flat, finals):
                invalid = sum(not sc.valid_code for sc in e.public_scores)
                r = final_reward(f.passed, invalid, s.invalid_code_penalty)
                scores.append(Score(r, f.passed, f.status, {"hidden_pass": float(f.passed), "turns": float(e.turns),
                                                            "invalid_turns": float(invalid)},
                                    f.feedback, f.first_error, f.valid_code))
            batch = Batch(step_tasks, [[Sample(tuple(e.prompt_ids), tuple(e.ids), tuple(e.logprobs),
                                               "\n".join(e.completions)) for e in row] for row in episodes],
                          generate_s=generate_s, masks=[[list(e.mask) for e in row] for row in episodes],
                          turns=[[e.turns for e in row] for row in episodes])
            batch.set_scores(scores)

            # 3. GRPO update on the episode sequences, feedback tokens masked out
            adv = group_relative(batch.rewards(), s.scale_rewards).flatten()
            tokens = tr.to_device(batch.tokens(pad))
            ref_lp = tr.kl_reference(tokens)
            stats = tr.policy_update(tokens, adv, ref_lp, beta=tr.kl_ctl.value)
            stats["turns_mean"] = sum(e.turns for e in flat) / len(flat)
            stats["first_turn_pass_rate"] = sum(e.public_scores[0].passed for e in flat) / len(flat)
            tr.kl_ctl.update(stats.get("kl", 0.0), n_steps=len(flat))
            tr.step += 1
            tr.log(batch, stats, time.perf_counter() - t0, rewards.take_waited(), on_step)
            tr.checkpoint(force=tr.step == tr.total_steps)
    return tr.finish(save_final=save_final)
