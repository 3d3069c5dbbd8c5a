"""Face restoration while the rest of the picture is upscaled (the reference's ``--face_enhance``).

One module a job: ``detect`` (faces and five landmarks, YuNet through ``yuface``; ``haar`` where yuface has no
wheel: boxes with guessed landmarks), ``align`` (each face to the restorer's 512×512 template and back, by a
similarity transform), ``mask`` (the feathered blend mask), ``restorer`` (GFPGAN or RestoreFormer through
spandrel, batched, never tiled), ``paste`` (which faces, restored into the upscaled picture at its own precision)
and ``step`` (what the engine calls around an upscale).
"""
