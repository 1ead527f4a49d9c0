"""AAP: the grant-call management application of the plan « 1 jeune 1 mentor »."""
from pathlib import Path

from flask import Flask

from . import config as config_module
from .extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides=None, instance_path=None):
    app = Flask(
        __name__,
        instance_path=str(instance_path or config_module.DEFAULT_INSTANCE),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_mapping(config_module.load(app.instance_path, overrides))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)

    from . import models  # noqa: F401  (register the tables)
    from .database import configure_engine
    configure_engine(app)

    from .web import init_web
    init_web(app)

    from .auth import bp as auth_bp
    from .main import bp as main_bp
    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    from .blueprints import register_domain_blueprints
    register_domain_blueprints(app)

    from .mail import init_mail
    init_mail(app)
    from .documents import init_app as init_documents
    init_documents(app)
    from .worker import init_worker
    init_worker(app)

    from .cli import register_cli
    register_cli(app)
    return app
