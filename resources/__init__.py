"""Package data installed as ``profview.resources``: the icon, the desktop entry and the
MIME type of pstats files; read with ``importlib.resources``, never by a path beside the
source tree (an installed wheel has no such tree)."""
