"""The engine as a process the editors talk to: the same requests and events over a worker's pipes or a socket.

    worker            ``python -m krita_realesrgan.serving.worker``: one editor's engine over stdin/stdout; its
                      ``Worker`` (ops, events, cancel) also serves each connection of the service
    request_schema    every request line checked (types, known fields, payload paths) before it is queued
    service           ``krita-realesrgan serve``: a socket, one shared upscaler, fair turns between clients
    service_upscaler  the engine service behind the ``Upscaler`` calls, for the command line's ``--engine``

The editors' side of the conversation is standard-library code in ``common`` (client, service_client, protocol).
"""
