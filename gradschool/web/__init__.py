"""The interactive course: a local web app (`gradschool serve`) whose demos run on gradschool's own engine.

The app itself is `gradschool.web.app.create_app()`; it needs the web extra (`pip install 'gradschool[web]'`).

    app.py           create_app: the routes of the pages, the API and the websockets
    security.py      Guard: Host, Origin and body-size checks, and the security headers, on every request
    schemas.py       what each endpoint accepts and answers, and plain-language validation errors
    pages.py         each page's body (pages/) inside one layout; their scripts and styles are in static/
    demos.py         the numbers of chapters 1-5; expr.py parses the expression graph's text
    session.py       the /api/train websocket (chapter 6): one training session per connection
    training.py      the jobs it trains: the seed's tiny MLP and the two-moons playground
    lm.py            chapter 9's /api/lm endpoints over the models in the runs folder (gradschool.runs)
    lm_training.py   training a tiny GPT live for chapter 9, in a child process
"""
