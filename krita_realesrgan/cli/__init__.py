"""The command line, ``krita-realesrgan``: ``main`` reads the first word and hands over to one module per command.

    main         the entry point: the image command, or a subcommand (video, cover, serve)
    image        ``krita-realesrgan -i in -o out``: one picture or a folder
    video        ``krita-realesrgan video``        cover   ``krita-realesrgan cover``
    serve        ``krita-realesrgan serve``: the engine service for the editors
    *_args       the option groups several commands share (backend, pixel limit, faces, engine address)
    ctrl_c       the first Ctrl-C finishes cleanly, the second stops at once
    exit_codes   what every command exits with: 0 done, 1 failed, 2 a wrong command line, 130 interrupted
"""
