"""Upscale a video clip frame by frame, keeping its audio, subtitles, frame count, frame rate and duration
(``pipeline.upscale_video``; the command line is ``cli/video.py``, the Ray cluster's run ``cluster/video_run.py``).

* ``ffmpeg.py``      — the ffmpeg binary, its command lines, and the ffmpeg children of one job.
* ``probe.py``       — ``VideoInfo``: what a clip holds (size, pixel format, colour, exact rate and count, streams).
* ``containers.py``  — the output containers (.mp4 .m4v .mov .mkv .webm) and the codecs each one holds.
* ``options.py``     — ``VideoOptions``: engine and encoder options, frame rate, segment length, previews; defaults.
* ``work_folder.py`` — what a job keeps beside its output: job record, finished segments, log; segment lengths.
* ``decode.py``      — a clip into raw RGB frames on a pipe (every frame, or resampled to a constant rate).
* ``encode.py``      — upscaled frames into one ffmpeg encoder per segment, with the input's colour description.
* ``frame_loop.py``  — decoded frames -> engine -> even crop -> segment encoder (+ preview PNGs).
* ``mux.py``         — the finished segments and the input's sound and subtitles into the output file.
* ``pipeline.py``    — the job: ``prepare_job``, ``VideoJob`` (run here or segment by segment elsewhere),
  ``upscale_video``.
"""
