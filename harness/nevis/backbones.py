"""The stream's fixed backbone under the suite's speed options, kept compiled across a resume.

The stream worker hands the learner a `StreamBackbones` as `ctx.make_backbone`: a
`PreparedFactory` (channels_last and/or torch.compile applied, warmed up, compilation summed in
`compile_time_s`), exactly as the continual worker does. What it adds is for the checkpoint
(`harness.nevis.checkpoint`), which pickles the learner: pickling an `nn.Module` keeps its
channels_last strides but drops its compiled call (`Module.__getstate__` pops
`_compiled_call_impl`: compiled graphs belong to a process). A resumed learner would run the
rest of the stream eagerly, under other settings than its run key says. So:

- while a checkpoint is written (`marked_for_checkpoint`), every backbone this factory compiled
  that is still compiled carries a mark in its ``__dict__``, which pickling keeps; the mark is
  removed right after, so copies a learner makes with `copy.deepcopy` (which run eagerly, as
  they would have in an uninterrupted run) never carry it;
- after a restore, `reprepare` compiles every marked module again, in place and warmed up, its
  time added to `compile_time_s`. Exactly the modules that were compiled when the checkpoint
  was written are compiled after the resume, so the resumed run computes as its uninterrupted
  twin would. The marked modules are found among all live objects (`gc`), wherever the
  learner's state holds them; that costs one pass over the heap, once per resume.
"""

from __future__ import annotations

import contextlib
import gc
import weakref
from collections.abc import Iterator

from torch import nn

from harness.runner.performance import PreparedFactory, autocast, prepare_model

MARK = "_harness_compiled_at_checkpoint"


class StreamBackbones(PreparedFactory):
    """`PreparedFactory` whose compiled backbones survive a checkpoint (see module doc)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._compiled: weakref.WeakSet[nn.Module] = weakref.WeakSet()

    def __call__(self) -> nn.Module:
        model = super().__call__()
        if self.options.compile:
            self._compiled.add(model)
        return model

    @contextlib.contextmanager
    def marked_for_checkpoint(self) -> Iterator[None]:
        """Mark the backbones that are compiled now for as long as the block (a save) runs."""
        marked = [m for m in list(self._compiled) if m._compiled_call_impl is not None]
        for model in marked:
            model.__dict__[MARK] = True  # a plain attribute: no guard of the compiled graph
        try:
            yield
        finally:
            for model in marked:
                model.__dict__.pop(MARK, None)

    def reprepare(self) -> int:
        """Compile again every restored backbone that was compiled at the checkpoint; returns
        how many. Must run after the restore, before the learner is called."""
        if not self.options.compile:
            return 0
        gc.collect()  # restored modules the learner did not keep are not worth compiling
        restored = [o for o in gc.get_objects()
                    if issubclass(type(o), nn.Module) and o.__dict__.pop(MARK, False)]
        for model in restored:
            with autocast(self.device, self.options.autocast):
                _, seconds = prepare_model(
                    model, channels_last=self.options.channels_last, compile=True,
                    example_input=self.example_input, backend=self.options.compile_backend)
            self.compile_time_s += seconds
            self._compiled.add(model)
        return len(restored)
