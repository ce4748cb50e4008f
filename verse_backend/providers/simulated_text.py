"""Deterministic, plausible answers for the offline simulation: same question, same answer.

A few sentence templates filled with the question's own key words; a seeded RNG (from a hash
of the question and the turn number) picks and orders them, so runs are reproducible across
processes and a follow-up question gets a different answer.
"""

from __future__ import annotations

import hashlib
import random
import re

MIN_TOKENS = 60
MAX_TOKENS = 120

_STOPWORD_TEXT = (
    "about above after again also because been before being between both could does doing "
    "down during each from further have having here into itself just more most much only other "
    "over same should some such than that their them then there these they this those through "
    "under until very was were what when where which while will with would your yours please "
    "tell explain know want need like make thing things really "
    # Common verbs read badly in the noun slots of the templates.
    "configure configuring work works working using used happen happens affect affects break "
    "breaks cause causes mean means handle handles give show help improve change build write "
    "read runs running compare choose start stop keep find look think best better different "
    "difference many often possible"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_OPENERS = (
    "Good question about {a}.",
    "Let's look at {a} step by step.",
    "{A} is worth thinking through carefully.",
    "Here is how I would approach {a}.",
)
_MIDDLES = (
    "The short answer is that {a} depends on how the pieces around it are set up.",
    "A useful way to think about {a} is to separate what you can observe from what you assume.",
    "In practice, {a} and {b} tend to influence each other more than people expect.",
    "If you change one thing at a time, the effect of {b} becomes much easier to see.",
    "Most surprises with {a} come from a default that nobody remembers setting.",
    "It helps to write down what you expect before you test {b}, and then compare the two.",
    "When {a} behaves differently in production, look first at everything that sits in between.",
    "A small, repeatable example usually says more about {b} than a long explanation does.",
    "Keep in mind that {b} is rarely the whole story; the surrounding context matters as well.",
    "People who work with {a} every day tend to rely on simple checks rather than intuition.",
)
_CLOSERS = (
    "In short: start simple with {a}, measure, and adjust from there.",
    "I hope that helps; ask again if you want to go deeper into {b}.",
    "Try it on a small case first, and the rest of {a} should follow naturally.",
)


def key_words(message: str, limit: int = 3) -> list[str]:
    """The message's most telling words: long, not stopwords, first occurrence order."""
    seen: list[str] = []
    for word in re.findall(r"[A-Za-z][A-Za-z0-9'-]{3,}", message):
        lowered = word.lower()
        if lowered not in _STOPWORDS and lowered not in seen:
            seen.append(lowered)
    seen.sort(key=len, reverse=True)
    return seen[:limit]


def _seeded_rng(message: str, turn: int) -> random.Random:
    digest = hashlib.sha256(f"{turn}\x00{message}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - not for secrets


def simulated_answer(message: str, turn: int = 1) -> list[str]:
    """The answer to `message` as tokens (words with their leading space), 60-120 of them."""
    rng = _seeded_rng(message, turn)
    words = key_words(message) or ["this"]
    a = words[0]
    b = words[1] if len(words) > 1 else "the details"

    def fill(template: str) -> list[str]:
        return template.format(a=a, A=a[:1].upper() + a[1:], b=b).split()

    opener = fill(rng.choice(_OPENERS))
    closer = fill(rng.choice(_CLOSERS))
    middles = list(_MIDDLES)
    rng.shuffle(middles)
    # Answers of varied length, like a model's: aim somewhere in the range, then stop at the
    # first sentence end past the aim.
    target = rng.randint(MIN_TOKENS, MAX_TOKENS - 20)
    sentence_words = list(opener)
    for template in middles:
        if len(sentence_words) + len(closer) >= target:
            break
        sentence_words += fill(template)
    sentence_words = sentence_words[: MAX_TOKENS - len(closer)] + closer
    return [word if i == 0 else " " + word for i, word in enumerate(sentence_words)]
