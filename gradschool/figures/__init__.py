"""The numbers behind the chapters' live figures, one module a topic: pure functions of the library.

The web app's figure APIs (gradschool.web.figure_api) return them as JSON for the page's script to draw,
and the notebooks draw the same numbers with matplotlib, so a figure is computed in one place.
"""
