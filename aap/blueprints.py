"""The domain blueprints (besides main and auth). One line per domain package."""


def register_domain_blueprints(app):
    blueprints = []
    from .applications import bp as applications_bp
    blueprints.append(applications_bp)
    from .calls import bp as calls_bp
    blueprints.append(calls_bp)
    from .instruction import bp as instruction_bp
    blueprints.append(instruction_bp)
    from .search import bp as search_bp
    blueprints.append(search_bp)
    from .associations import bp as associations_bp
    blueprints.append(associations_bp)
    from .documents.views import bp as documents_bp
    blueprints.append(documents_bp)
    from .review import bp as review_bp
    blueprints.append(review_bp)
    from .selection import bp as selection_bp
    blueprints.append(selection_bp)
    from .followup import bp as followup_bp
    blueprints.append(followup_bp)
    from .pilotage import bp as pilotage_bp
    blueprints.append(pilotage_bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
