"""Upscale a video clip frame by frame, keeping its audio, subtitles, frame count, frame rate and duration.

* ``pipeline.py`` — the whole pipeline (split into modules next).
"""
