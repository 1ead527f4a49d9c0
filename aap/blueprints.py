"""The domain blueprints (besides main and auth). One line per domain package."""


def register_domain_blueprints(app):
    blueprints = []
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
