"""The interactive course: a local web app (`gradschool serve`) whose demos run on gradschool's own engine.

The app itself is `gradschool.web.app.create_app()`; it needs the web extra (`pip install 'gradschool[web]'`).
"""
