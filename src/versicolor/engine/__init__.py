"""The page engine: the JavaScript a site's pages load (js/), assembled per site (script.py), the tag to paste
(snippet.py), and the signed links that preview an experiment in one browser (preview.py). No web framework."""
