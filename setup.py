"""The Plinth core distribution: the Pyramid application plugins build on."""

from pathlib import Path

from setuptools import find_namespace_packages, setup

setup(
    name="plinth",
    version="0.1.0",
    description="A Pyramid platform extended by independently packaged plugins",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    package_dir={"": "platform"},
    # Namespace packages, so that the folders of migrations and static files
    # are packages too and a wheel carries them.
    packages=find_namespace_packages(
        "platform", include=["plinth", "plinth.*"], exclude=["*.__pycache__"]
    ),
    package_data={
        "plinth": [
            "static/*",
            "migrations/*.mako",
            # What ``plinth plugin new`` writes.
            "plugin_template/**/*.tmpl",
        ]
    },
    zip_safe=False,
    install_requires=[
        "pyramid>=2.0,<3",
        "waitress>=3.0,<4",
        "SQLAlchemy>=2.0,<2.2",
        "zope.sqlalchemy>=3.0,<5",
        "pyramid_tm>=2.5,<3",
        "pyramid_retry>=2.1,<3",
        "pyramid_services>=2.2,<3",
        "transaction>=4.0,<6",
        "alembic>=1.13,<2",
        "psycopg[binary]>=3.1,<4",
        "click>=8.1,<9",
        "jsonschema>=4.20,<5",
        "prometheus-client>=0.20,<1",
        "cachetools>=5.3,<9",
        "swagger-ui-bundle-v2>=5.17,<6",  # swagger-ui 5: renders OpenAPI 3.1
        "plaster_pastedeploy>=1.0,<2",
    ],
    extras_require={
        "testing": [
            # schemathesis 4 does not support pytest 9 yet
            "pytest>=8,<9",
            "WebTest>=3.0,<4",
            "hypothesis>=6.100,<7",
            "schemathesis>=4.0,<5",
            "ruff>=0.6,<1",
            "mypy>=1.10,<3",
        ],
    },
    entry_points={
        "paste.app_factory": ["main = plinth:main"],
        "paste.server_runner": ["waitress = plinth.serve:serve_paste"],
        "console_scripts": ["plinth = plinth.cli:main"],
        "pytest11": ["plinth = plinth.testing"],
    },
)
