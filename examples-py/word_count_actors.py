"""Actors on our engine: stateful workers that tasks talk to through handles.

Tasks count words in chunks of text and send their counts to a single Aggregator actor; a
named, threaded Progress actor tracks how many chunks are done; an ActorPool of Tokenizer
actors does the splitting. Run: .venv/bin/python examples-py/word_count_actors.py
"""

import collections
import re

import ray
from ray.util import ActorPool

TEXT = (
    """
Ray turns a slow for loop into parallel tasks. Tasks are stateless; actors hold state.
An actor is a worker process that keeps one object; its methods run one at a time, in order.
Handles to actors can be passed to tasks, stored in objects and shared between drivers.
"""
    * 50
)


@ray.remote
class Aggregator:
    def __init__(self):
        self.counts = collections.Counter()

    def add(self, counts: dict) -> None:
        self.counts.update(counts)

    def top(self, n: int):
        return self.counts.most_common(n)


@ray.remote(max_concurrency=4)
class Progress:
    def __init__(self, total: int):
        self.total, self.done = total, 0

    def tick(self) -> None:
        self.done += 1

    def status(self) -> str:
        return repr(self)

    def __repr__(self):
        return f"Progress({self.done}/{self.total})"


@ray.remote
class Tokenizer:
    def split(self, chunk: str):
        return re.findall(r"[a-z]+", chunk.lower())


@ray.remote
def count(words, aggregator, progress_name: str) -> int:
    aggregator.add.remote(collections.Counter(words))
    ray.get(ray.get_actor(progress_name).tick.remote())  # a named actor, found by name
    return len(words)


def main() -> None:
    ray.init()
    lines = [line for line in TEXT.splitlines() if line.strip()]
    chunks = ["\n".join(lines[i : i + 10]) for i in range(0, len(lines), 10)]

    aggregator = Aggregator.remote()
    progress = Progress.options(name="progress").remote(len(chunks))
    pool = ActorPool([Tokenizer.remote() for _ in range(2)])

    word_lists = list(pool.map(lambda tokenizer, chunk: tokenizer.split.remote(chunk), chunks))
    totals = ray.get([count.remote(words, aggregator, "progress") for words in word_lists])

    print(f"{sum(totals)} words in {len(chunks)} chunks; {ray.get(progress.status.remote())}")
    for word, n in ray.get(aggregator.top.remote(5)):
        print(f"{word:>8}  {n}")
    ray.shutdown()


if __name__ == "__main__":
    main()
