"""plinth-reporting: a report registry, with JSON, streamed CSV and SVG charts."""

from setuptools import find_namespace_packages, setup

setup(
    name="plinth-reporting",
    version="0.1.0",
    description="Reports for Plinth: any plugin contributes; JSON, streamed CSV, SVG charts",
    python_requires=">=3.11",
    # Namespace packages, as in the other plugins: a folder of migrations,
    # templates or static files is a package too, so that a wheel carries it.
    packages=find_namespace_packages(
        include=["plinth_reporting", "plinth_reporting.*"],
        exclude=["*.tests", "*.tests.*", "*.__pycache__"],
    ),
    zip_safe=False,
    install_requires=[
        "plinth>=0.1,<0.2",
        "matplotlib>=3.8,<4",
    ],
    entry_points={"plinth.plugins": ["reporting = plinth_reporting"]},
)
