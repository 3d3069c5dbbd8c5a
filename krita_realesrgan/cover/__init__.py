"""Covers: a small picture made into a platform cover of an exact size (``make``), and saved within the
platform's file-size limit (``export``).

    make      choose the model, upscale, crop or pad to the target: the whole recipe
    content   photo or illustration? (chooses the model when the user did not)
    crop      where the crop goes: faces first, else the most detailed region
    export    encode JPEG/PNG/WebP, lowering the quality step by step until the file fits
    op        the engine's ``cover`` and ``export`` requests (worker and service)

The presets and the words that explain each choice are standard-library only and live in ``common``
(``cover_presets``, ``cover_reasons``), because the editors show them too.
"""
