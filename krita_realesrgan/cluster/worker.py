"""The Ray actor: one engine (``Upscaler``, its model loaded on the first picture and kept warm) that upscales the
shards the driver sends. It needs neither the input nor the output folder: a shard carries its files' bytes or its
frames, and the outputs go back as bytes for the driver to write.

* ``upscale_files``: the single-machine ``upscale_file`` on each file, in a private temporary folder (the same
  checks, notes and encoder, so the same output bytes); a file's error is part of the answer, not an exception.
* ``upscale_segment``: ``VideoJob.encode_segment`` on one segment's frames.

Plain class: ``pool.py`` makes it a Ray actor, so this module does not import Ray.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..batch_plan import Task
from ..common.errors import EngineError
from ..common.formats import UpscaleOptions
from ..image_header import ImageHeader


@dataclass(frozen=True)
class FileInput:
    task: Task                        # the driver's paths: the real input and output
    header: Optional[ImageHeader]
    data: bytes                       # the input file's bytes


@dataclass(frozen=True)
class Failure:
    """An EngineError raised in a worker, as data (the exception itself does not survive pickling)."""
    kind: str
    message: str
    detail: Optional[str] = None

    def error(self) -> EngineError:
        return EngineError(self.kind, self.message, self.detail)


@dataclass(frozen=True)
class FileOutput:
    task: Task
    data: Optional[bytes]             # the output file's bytes; None when it failed
    lines: Tuple[str, ...]            # what the single-machine run says about it
    failure: Optional[Failure] = None


class ShardWorker:
    def __init__(self, weights_dir: Optional[str]):
        from ..engine import Upscaler
        os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
        self.upscaler = Upscaler(Path(weights_dir) if weights_dir else None)

    def ready(self) -> str:
        """The Ray node this worker runs on (the driver waits for the answer before sending work)."""
        import ray
        return ray.get_runtime_context().get_node_id()

    def upscale_files(self, files: Sequence[FileInput], options: UpscaleOptions) -> List[FileOutput]:
        from ..cli.image import upscale_file
        outputs = []
        with tempfile.TemporaryDirectory(prefix="krita-realesrgan-shard-") as folder:
            for number, item in enumerate(files):
                here = Path(folder) / str(number)
                source, target = here / "in" / item.task.source.name, here / "out" / item.task.target.name
                source.parent.mkdir(parents=True)
                target.parent.mkdir(parents=True)
                source.write_bytes(item.data)
                lines: List[str] = []
                try:
                    lines.append(upscale_file(self.upscaler, Task(source, target), item.header, options, 0,
                                              lines.append))
                    data, failure = target.read_bytes(), None
                except EngineError as error:
                    data, failure = None, Failure(error.kind, error.message, error.detail)
                # the lines name the temporary copies: say the user's files instead
                lines = [line.replace(str(source), str(item.task.source)).replace(str(target), str(item.task.target))
                         for line in lines]
                outputs.append(FileOutput(item.task, data, tuple(lines), failure))
        return outputs

    def upscale_segment(self, job, number: int, frames: np.ndarray):
        """``VideoJob.encode_segment`` on segment ``number``: an ``EncodedSegment``, or a ``Failure``."""
        try:
            return job.encode_segment(self.upscaler, number, frames)
        except EngineError as error:
            return Failure(error.kind, error.message, error.detail)
