"""Batch folders and videos on a Ray cluster (``--ray local|auto|ADDRESS``): the optional ``cluster`` extra.

The work is cut into shards (groups of files; a video's segments) that a pool of Ray actors processes, each actor
with one engine that loads the model once (one GPU per actor where the cluster has GPUs, else CPUs). The driver
(the process the user started) plans the run exactly as the single-machine commands do, reads the inputs, writes
every output (atomically, under the same names) and muxes a video's sound at the end, so the workers need neither
the input nor the output folder, only the engine and its weights.

* ``args.py``      — ``--ray`` and ``--ray-workers`` for the image and video commands (standard library only).
* ``runtime.py``   — join or start the Ray runtime; how many workers, with which resources.
* ``pool.py``      — the actors and their queues of shards: replaced when they die, their shards redone.
* ``worker.py``    — the actor: one ``Upscaler``; a shard of files, or one video segment.
* ``folder_run.py``, ``video_run.py`` — the image folder and the video pipeline on the pool.

Nothing here is imported unless ``--ray`` is given; Ray itself is imported only by ``runtime``, ``pool`` and the
two runs.
"""
