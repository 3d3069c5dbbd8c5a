"""Which file goes where, decided for the whole run before the first upscale.

* Every output name is planned up front, so two inputs never write the same output: ``a.jpg`` and ``a.jpeg``
  would both become ``a_out.jpg`` (likewise ``a.tif``/``a.tiff``, ``b.png``/``b.bmp``, or ``c.webp``/``c.png`` with
  ``--ext png``). The input whose own extension the output keeps gets the plain name; the others get their
  extension in the name (``a_jpeg_out.jpg``), and the task says so. Names are compared case-insensitively, so a run
  gives the same files on a case-insensitive disk.
* No output may be one of the inputs (same file: a path, a symlink or a hard link to it): the run is refused with
  the list before anything is written.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

from .common.errors import EngineError, Kind
from .file_guard import InputGuard
from .image_header import WRITE_EXTENSIONS

OUTPUT_FORMATS = ("auto", "png", "jpg", "webp")


@dataclass(frozen=True)
class Naming:
    """How output names are made: ``<stem>_<suffix><extension>`` (``suffix`` '' gives ``<stem><extension>``)."""
    suffix: str = "out"
    ext: str = "auto"     # one of OUTPUT_FORMATS: auto = the input's own format (png for images with alpha)

    def extension(self, source: Path, has_alpha: Optional[bool]) -> str:
        if self.ext != "auto":
            return WRITE_EXTENSIONS[self.ext]
        if has_alpha:
            return ".png"
        return WRITE_EXTENSIONS.get(source.suffix.lower().lstrip("."), ".png")

    def name(self, stem: str, extension: str) -> str:
        return f"{stem}_{self.suffix}{extension}" if self.suffix else f"{stem}{extension}"


@dataclass(frozen=True)
class Task:
    source: Path
    target: Path
    usual: Optional[str] = None   # set when renamed: the usual name, taken by another input's output

    def describe_rename(self) -> str:
        return f"{self.source.name} -> {self.target.name} ({self.usual} is another input's output)"


def _key(path: Path) -> str:
    return str(path).casefold()


def plan_folder(sources: Sequence[Path], folder: Path, naming: Naming,
                alpha: Dict[Path, Optional[bool]]) -> List[Task]:
    """One task per source, outputs in ``folder``, no two with the same name. ``alpha``: whether each source has
    an alpha channel, where its header tells (it decides the output type for ``ext='auto'``)."""
    wanted = [(source, naming.extension(source, alpha.get(source))) for source in sources]
    groups: Dict[str, List[int]] = {}
    for index, (source, extension) in enumerate(wanted):
        groups.setdefault(_key(folder / naming.name(source.stem, extension)), []).append(index)
    taken = set(groups)
    tasks: List[Optional[Task]] = [None] * len(sources)
    for key, members in groups.items():
        keeper = min(members, key=lambda i: (_extension_distance(*wanted[i]), i))
        for index in members:
            source, extension = wanted[index]
            usual = folder / naming.name(source.stem, extension)
            if index == keeper:
                tasks[index] = Task(source, usual)
                continue
            stem = f"{source.stem}_{source.suffix.lstrip('.').lower() or 'file'}"
            candidate, counter = folder / naming.name(stem, extension), 2
            while _key(candidate) in taken:
                candidate, counter = folder / naming.name(f"{stem}_{counter}", extension), counter + 1
            taken.add(_key(candidate))
            tasks[index] = Task(source, candidate, usual=usual.name)
    return [task for task in tasks if task is not None]


def _extension_distance(source: Path, extension: str) -> int:
    """0: the output keeps the input's extension (a.jpg -> .jpg); 1: its format (a.jpeg -> .jpg); 2: neither."""
    own = source.suffix.lower()
    if own == extension:
        return 0
    return 1 if WRITE_EXTENSIONS.get(own.lstrip(".")) == extension else 2


def refuse_overwriting_inputs(tasks: Iterable[Task], inputs: Iterable[Path], hint: str) -> None:
    """Raise EngineError(BAD_INPUT) listing every task whose output is one of ``inputs`` (as files)."""
    guard = InputGuard(inputs)
    clashes = [(task, guard.overwritten_by(task.target)) for task in tasks]
    clashes = [(task, victim) for task, victim in clashes if victim is not None]
    if not clashes:
        return
    if len(clashes) == 1:
        guard.check(clashes[0][0].target, hint)
    listing = ", ".join(task.target.name if task.target.name == victim.name else f"{task.target.name} = {victim.name}"
                        for task, victim in clashes[:5])
    more = f" and {len(clashes) - 5} more" if len(clashes) > 5 else ""
    raise EngineError(Kind.BAD_INPUT, f"{len(clashes)} outputs would replace input pictures ({listing}{more}). "
                      f"{hint}")
