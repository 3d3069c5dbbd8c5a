"""What the Krita and GIMP plugins share above the engine's modules: the words, names and rules an editor shows
or applies, each said once. Standard library only (Python 3.8+), no Qt, Gtk, krita or gi: the plugins keep what
touches their editor's API (dialogs, pixels in and out, documents and images, progress, menus).

    language        which language the user reads (from the environment; Krita adds its own sources); the
                    words are looked up in ``common.translate``'s tables
    models          model labels, the denoise rule, which models and face models are installed
    layer_names     the names of the layers and documents the plugins make
    selection       cutting a result back to a selection, its softness as alpha, a selection scaled up
    cover_defaults  the cover choices' values and defaults both plugins start from
    messages        what the user is told after a run (the engine's notes)
    choice_labels   where the engine runs, in words (the editors' "Engine" choice)
"""
