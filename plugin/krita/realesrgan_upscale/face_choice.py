"""Whether the dialog can offer "Restore faces" for a model, and why not. Pure Python.

Faces are restored by the engine (krita_realesrgan/faces/) with a face model the installer adds only when asked
(``--models GFPGANv1.4``): without its file (``editor.models.faces_installed``) the checkbox is greyed with the
install command. Anime models are refused (the face restorers know real faces only, as the reference says).
"""
from __future__ import annotations

from typing import Optional

from .i18n import tr
from .krita_realesrgan.common import catalog
from .krita_realesrgan.common.editor.models import is_anime


def unavailable(model: str, faces_installed: bool) -> Optional[str]:
    """Why faces cannot be restored with ``model`` (a sentence for the dialog), or None when they can."""
    if is_anime(model):
        return tr("Restoring faces is for photos of real people, not for anime models.")
    if not faces_installed:
        return tr("Restoring faces needs the face model. Get it with: python3 installer.py --models {name}").format(
            name=catalog.DEFAULT_FACE_MODEL)
    return None
