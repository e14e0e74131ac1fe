"""Static HTML reports of a gradebook: a class overview and a page per learner.

Templates live in ``templates/`` (jinja2, autoescaped); ``render.py`` turns
the gradebook into the numbers they show. Everything is inline (CSS, SVG
charts): the report reads offline and prints.
"""
