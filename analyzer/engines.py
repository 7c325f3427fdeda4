"""Where batches of calls are analysed: in this process, in N local processes
(`--workers N`), or in N actors on a Ray cluster (`--engine ray`). Every engine takes the same self-contained jobs
(a file's bytes, its manifest row and the run's read options) and returns results in
submission order, so the outputs do not depend on the engine. At most a few batches are in
flight at once: calls stream through and memory stays flat however large the folder."""
from __future__ import annotations

import logging
import os
import pickle
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from analyzer.analysis import Analyzer, BatchResult, Job, ReadOptions, analyse_jobs
from analyzer.memory import steady_allocator

ENGINES = ("local", "ray")


class Worker:
    """An analyser and the run's read options, built once per process or actor. A worker
    gets the analyser pickled and loads it only after setting its thread count, so the
    encoder it builds uses this worker's share of the cores."""

    def __init__(self, analyzer: Analyzer | bytes, options: ReadOptions, threads: int | None = None) -> None:
        steady_allocator()
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.analyzer = pickle.loads(analyzer) if isinstance(analyzer, bytes) else analyzer
        self.options = options

    def run(self, jobs: list[Job]) -> BatchResult:

        return analyse_jobs(self.analyzer, self.options, jobs)


class RayWorker(Worker):
    """A Worker as a Ray actor: each result names the node it ran on, so a run can show
    (run.json) that the cluster, not one machine, did the work."""

    def run(self, jobs: list[Job]) -> BatchResult:
        import ray

        result = super().run(jobs)
        result.node = ray.get_runtime_context().get_node_id()
        return result


def _threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


def _nothing() -> BatchResult:
    return BatchResult([], [], {})


class Engine:
    """Runs batches in order with at most `window` in flight. Started on the first batch
    that has work: a rerun answered from the cache loads no model and starts no worker."""

    window = 1

    def __init__(self, analyzer: Analyzer, options: ReadOptions) -> None:
        self.analyzer, self.options = analyzer, options
        self.started = False

    def map(self, batches: Iterable[list[Job]]) -> Iterator[BatchResult]:
        in_flight: deque = deque()
        for jobs in batches:
            if jobs and not self.started:
                self.analyzer.prepare()  # a broken install fails here, once, not per call
                self.start()
                self.started = True
            in_flight.append(self.submit(jobs) if jobs else None)
            while len(in_flight) >= self.window:
                yield self._take(in_flight.popleft())
        while in_flight:
            yield self._take(in_flight.popleft())

    def _take(self, pending: Any) -> BatchResult:
        return _nothing() if pending is None else self.result(pending)

    def start(self) -> None:
        raise NotImplementedError

    def submit(self, jobs: list[Job]) -> Any:
        raise NotImplementedError

    def result(self, pending: Any) -> BatchResult:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SerialEngine(Engine):
    """In this process: what a laptop run uses by default."""

    def start(self) -> None:
        self.worker = Worker(self.analyzer, self.options)

    def submit(self, jobs: list[Job]) -> BatchResult:
        return self.worker.run(jobs)

    def result(self, pending: BatchResult) -> BatchResult:
        return pending


_process_worker: Worker | None = None


def _start_process(analyzer: bytes, options: ReadOptions, threads: int) -> None:
    global _process_worker
    _process_worker = Worker(analyzer, options, threads)


def _run_in_process(jobs: list[Job]) -> BatchResult:
    assert _process_worker is not None
    return _process_worker.run(jobs)


class ProcessEngine(Engine):
    """N worker processes on this machine, each with its own analyser (loaded once) and
    cores / N threads for the encoder. Processes are spawned, not forked: a fork of a
    process that already ran torch can deadlock."""

    def __init__(self, analyzer: Analyzer, options: ReadOptions, workers: int) -> None:
        super().__init__(analyzer, options)
        self.workers = workers
        self.window = 2 * workers
        self.pool = None

    def start(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_process,
            initargs=(pickle.dumps(self.analyzer), self.options, _threads_per_worker(self.workers)),
        )

    def submit(self, jobs: list[Job]) -> Any:
        return self.pool.submit(_run_in_process, jobs)

    def result(self, pending: Any) -> BatchResult:
        return pending.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


class RayEngine(Engine):
    """Long-lived actors on a Ray cluster, each holding one analyser: the model is loaded
    once per actor, not per batch (shared/notes: a fresh `map_batches` job per call reloads
    it and is 6-7x slower). Every node needs this package and its models installed."""

    def __init__(self, analyzer: Analyzer, options: ReadOptions, workers: int, address: str | None) -> None:
        super().__init__(analyzer, options)
        try:
            import ray
        except ImportError:
            raise RuntimeError("--engine ray needs Ray: pip install 'loyalty-analyzer[ray]'") from None
        self.ray, self.workers, self.address = ray, workers, address
        self.window = 2 * workers
        self.actors: list = []
        self.own_ray = False
        self.submitted = 0

    def start(self) -> None:
        ray = self.ray
        if not ray.is_initialized():
            self.own_ray = True
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING,
                         **({} if self.address else {"num_cpus": max(self.workers, os.cpu_count() or 1)}))
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise RuntimeError(f"cannot start or reach Ray at {self.address or 'a new local instance'}: {err}") from None
        actor = ray.remote(num_cpus=1)(RayWorker)
        threads = 1 if self.address else _threads_per_worker(self.workers)
        analyzer = pickle.dumps(self.analyzer)
        self.actors = [actor.remote(analyzer, self.options, threads) for _ in range(self.workers)]

    def submit(self, jobs: list[Job]) -> Any:
        self.submitted += 1
        return self.actors[self.submitted % len(self.actors)].run.remote(jobs)

    def result(self, pending: Any) -> BatchResult:
        return self.ray.get(pending)

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        if self.own_ray:
            self.ray.shutdown()


def start_engine(engine: str, analyzer: Analyzer, options: ReadOptions, workers: int = 1,
                 address: str | None = None) -> Engine:
    if engine == "ray":
        return RayEngine(analyzer, options, workers, address)
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    return ProcessEngine(analyzer, options, workers) if workers > 1 else SerialEngine(analyzer, options)
