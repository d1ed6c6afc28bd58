"""plinth-admin: the admin console, in a browser."""

from setuptools import find_namespace_packages, setup

setup(
    name="plinth-admin",
    version="0.1.0",
    description="Plinth's admin console: the resource tree, ACLs, users and reports in a browser",
    python_requires=">=3.11",
    # Namespace packages: the folders of templates and static files are
    # packages too, so that a wheel carries them.
    packages=find_namespace_packages(
        include=["plinth_admin", "plinth_admin.*"],
        exclude=["*.tests", "*.tests.*", "*.__pycache__"],
    ),
    package_data={"plinth_admin": ["templates/*.jinja2", "templates/panels/*.jinja2", "static/*"]},
    zip_safe=False,
    install_requires=[
        "plinth>=0.1,<0.2",
        "plinth-auth>=0.1,<0.2",
        "pyramid_jinja2>=2.10,<3",
    ],
    extras_require={
        # Browser tests: they skip when Chromium and its driver are missing.
        "testing": ["selenium>=4.20,<5"],
    },
    entry_points={
        "plinth.plugins": ["admin = plinth_admin"],
        "pytest11": ["plinth_admin = plinth_admin.testing"],
    },
)
