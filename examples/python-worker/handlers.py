"""The Python side's step handlers: one function per handler name.

`square`, `noop` and `sleep` are the reference handlers of docs/worker.md ("Reference
handlers"), written again in Python: a workflow gives the same results whichever worker, Swift
or Python, runs each of its steps. `word_count` exists only here.
"""
import time

from tasker_worker import Permanent, RetryAfter

PRIME = 1_000_000_007


def inject_failures(step):
    """Failure injection from the task context, as the Swift reference handlers do it."""
    context, name = step.context if isinstance(step.context, dict) else {}, step.step_name
    sleep_ms = (context.get("sleep_ms") or {}).get(name) if isinstance(context.get("sleep_ms"), dict) else None
    if isinstance(sleep_ms, int) and sleep_ms > 0:
        step.cancelled.wait(sleep_ms / 1000)
    if name in (context.get("fail_permanently") or []):
        raise Permanent(f"injected permanent failure of '{name}'")
    if name in (context.get("always_fail") or []):
        raise RuntimeError(f"injected failure of '{name}' (always_fail, attempt {step.attempt})")
    if name in (context.get("fail_once") or []) and step.attempt <= 1:
        raise RuntimeError(f"injected failure of '{name}' (fail_once, attempt {step.attempt})")
    times = (context.get("fail_times") or {}).get(name)
    if isinstance(times, int) and step.attempt <= times:
        raise RuntimeError(f"injected failure of '{name}' (fail_times {times}, attempt {step.attempt})")
    seconds = (context.get("retry_after") or {}).get(name)
    if isinstance(seconds, (int, float)) and step.attempt <= 1:
        raise RetryAfter(seconds, f"injected failure of '{name}' (retry_after {seconds}s)")


def is_integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def square(step):
    """{"value": x*x mod p}: x from the context for a root step, else the product of the parents' values."""
    inject_failures(step)
    if not step.parent_results:
        key = (step.config or {}).get("input_key", "even_number") if isinstance(step.config, dict) else "even_number"
        value = step.context.get(key) if isinstance(step.context, dict) else None
        if value is None:
            raise Permanent(f"square: context.{key} is missing")
        if not is_integer(value):
            raise Permanent(f"square: context.{key} must be an integer")
        x = value
    else:
        x = 1
        for parent, result in sorted(step.parent_results.items()):
            value = result.get("value") if isinstance(result, dict) else None
            if not is_integer(value):
                raise Permanent(f"square: the result of parent '{parent}' has no integer 'value'")
            x = (x * (value % PRIME)) % PRIME
    x %= PRIME
    return {"value": (x * x) % PRIME}


def noop(step):
    inject_failures(step)
    return {}


def sleep(step):
    inject_failures(step)
    ms = (step.config or {}).get("ms") if isinstance(step.config, dict) else None
    if not is_integer(ms):
        ms = step.context.get("sleep_ms") if isinstance(step.context, dict) else None
    if is_integer(ms) and ms > 0:
        step.cancelled.wait(ms / 1000)  # returns early when the step times out
    return {}


def word_count(step):
    """Python only: counts the words of context.text."""
    text = step.context.get("text")
    if not isinstance(text, str):
        raise Permanent("word_count: context.text must be a string")
    step.logger.info("counting %d characters", len(text))
    return {"words": len(text.split()), "worker": "python"}


HANDLERS = {"square": square, "noop": noop, "sleep": sleep, "word_count": word_count}
