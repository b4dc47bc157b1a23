"""Fuzz the parsers for a fixed time (``make fuzz``): every property of tests/test_fuzz.py, randomized.

python -m bench.fuzz [--seconds 600] [--only SUBSTRING]

The time is shared among the properties. Each property runs in rounds of :data:`ROUND_EXAMPLES` generated
examples under the ``fuzz`` Hypothesis profile of tests/conftest.py (randomized, a fresh seed per round; the
``@example`` cases are left to ``make test``) while its share lasts: a round is not started when the last one
would not fit, and what a property leaves of its share goes to the ones after it. A round that fails prints its
falsifying example (shrunk by Hypothesis) and the fuzzing of that property goes on. At the end a table gives,
per property, the examples tried (shrinking included), the rounds, the distinct failures found (by exception
type and the line that raised it) and the seconds spent. Exits 1 when any property failed.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import Phase, settings

TESTS = Path(__file__).resolve().parent.parent / "tests"
# Examples per round: a round of the slowest property (local files written and read) takes about 5 s, so the
# clock is looked at often enough to stop near the time asked for.
ROUND_EXAMPLES = 200
# A falsifying example can be large (a JSON line nested 1,000 deep): its printout is cut here.
REPORT_CHARS = 3_000


@dataclass
class Tally:
    """What fuzzing one property found."""

    examples: int = 0
    rounds: int = 0
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)


def load_properties(only: str | None) -> list[tuple[str, Callable[[], None]]]:
    """Return the Hypothesis properties of tests/test_fuzz.py, by name (the test set-up module loaded first)."""
    # A property keeps the profile loaded when its module is imported: rounds of the fuzz one, chosen first.
    os.environ["HYPOTHESIS_PROFILE"] = "fuzz"
    sys.path.insert(0, str(TESTS))
    import conftest  # noqa: F401 (registers the profiles; blocks every connection but loopback)

    # Without the explicit phase: an @example pinned on a known failure would end every round before the first
    # generated example (`make test` runs those examples).
    settings.register_profile(
        "fuzz-round",
        parent=settings.get_profile("fuzz"),
        max_examples=ROUND_EXAMPLES,
        phases=(Phase.generate, Phase.target, Phase.shrink),
    )
    settings.load_profile("fuzz-round")
    import test_fuzz

    module: ModuleType = test_fuzz
    found = []
    for name in sorted(vars(module)):
        value = getattr(module, name)
        if name.startswith("test_") and hasattr(value, "hypothesis") and (only is None or only in name):
            found.append((name, value))
    return found


def count_examples(prop: Any, tally: Tally) -> None:
    """Wrap the property's body (Hypothesis calls ``prop.hypothesis.inner_test`` once per example) to count."""
    inner = prop.hypothesis.inner_test

    @functools.wraps(inner)
    def counted(*args: Any, **kwargs: Any) -> Any:
        tally.examples += 1
        return inner(*args, **kwargs)

    prop.hypothesis.inner_test = counted


def failure_key(exc: BaseException) -> str:
    """Return "ExceptionType at file:line" for the innermost frame that raised ``exc``."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__} at {where}"


def leaves(exc: BaseException) -> list[BaseException]:
    """Return the failures inside ``exc``: Hypothesis groups distinct failures of one run."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in leaves(sub)]
    return [exc]


def fuzz(name: str, prop: Any, seconds: float) -> Tally:
    """Run ``prop`` round after round while the next round fits in ``seconds``; print each new failure."""
    tally = Tally()
    count_examples(prop, tally)
    start = time.monotonic()
    last_round = 0.0
    while tally.rounds == 0 or time.monotonic() - start + last_round <= seconds:
        began = time.monotonic()
        try:
            prop()
        except Exception as exc:
            for leaf in leaves(exc):
                key = failure_key(leaf)
                if key not in tally.failures:
                    text = "".join(traceback.format_exception_only(leaf)).strip()
                    tally.failures[key] = text
                    print(f"\n--- {name}: new failure, {key}\n{text[:REPORT_CHARS]}", flush=True)
        tally.rounds += 1
        last_round = time.monotonic() - began
    tally.seconds = time.monotonic() - start
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600.0, help="total time for all properties")
    parser.add_argument("--only", help="fuzz only the properties whose name contains this")
    args = parser.parse_args()
    # warcio logs every odd header it repairs; fuzzed archives have thousands
    logging.getLogger("warcio").setLevel(logging.ERROR)
    properties = load_properties(args.only)
    if not properties:
        sys.exit(f"no property matches {args.only!r}")
    print(f"fuzzing {len(properties)} properties for {args.seconds:.0f} s in all", flush=True)
    tallies = {}
    deadline = time.monotonic() + args.seconds
    for index, (name, prop) in enumerate(properties):
        share = max(0.0, deadline - time.monotonic()) / (len(properties) - index)
        tallies[name] = fuzz(name, prop, share)
        t = tallies[name]
        print(f"{name}: {t.examples} examples, {len(t.failures)} failures", flush=True)
    width = max(len(name) for name in tallies)
    print(f"\n{'property':<{width}}  {'examples':>9}  {'rounds':>6}  {'failures':>8}  {'seconds':>7}")
    for name, t in tallies.items():
        print(f"{name:<{width}}  {t.examples:>9}  {t.rounds:>6}  {len(t.failures):>8}  {t.seconds:>7.0f}")
    total_examples = sum(t.examples for t in tallies.values())
    total_failures = sum(len(t.failures) for t in tallies.values())
    total_seconds = sum(t.seconds for t in tallies.values())
    print(f"{'total':<{width}}  {total_examples:>9}  {'':>6}  {total_failures:>8}  {total_seconds:>7.0f}")
    for name, t in tallies.items():
        for key in t.failures:
            print(f"FAILED {name}: {key}")
    sys.exit(1 if total_failures else 0)


if __name__ == "__main__":
    main()
