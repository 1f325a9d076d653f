"""The folders a path needs: which are missing, and what would stop them being created.

A download's destination and a run folder are both created with their missing parents, and
both remove exactly those again when they fail; both refuse a path below a file before doing
anything. :func:`missing_folders` is that walk up the path, once.
"""

from __future__ import annotations

from pathlib import Path


def missing_folders(folder: Path) -> tuple[list[Path], Path]:
    """``(missing, nearest)``: ``folder`` and its parents that do not exist yet, deepest first,
    and the nearest path above them that does exist (``folder`` itself when it exists).

    ``missing`` can be created only when ``nearest`` is a folder; a dangling symbolic link
    counts as existing (creating a folder in its place fails), so it is ``nearest`` then.
    """
    missing = []
    while not (folder.exists() or folder.is_symlink()):
        missing.append(folder)
        folder = folder.parent
    return missing, folder
