"""The written-out TODOs of each rung's starter; fill.py splices them into the starter."""
