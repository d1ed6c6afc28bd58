"""plinth-stock: SKU catalog, locations, a stock ledger and reservations."""

from setuptools import find_namespace_packages, setup

setup(
    name="plinth-stock",
    version="0.1.0",
    description="Inventory for Plinth: items, locations, ledger, reservations",
    python_requires=">=3.11",
    # Namespace packages: the folders of migrations and templates are
    # packages too, so that a wheel carries them.
    packages=find_namespace_packages(
        include=["plinth_stock", "plinth_stock.*"],
        exclude=["*.tests", "*.tests.*", "*.__pycache__"],
    ),
    package_data={"plinth_stock": ["templates/admin/*.jinja2"]},
    zip_safe=False,
    install_requires=[
        "plinth>=0.1,<0.2",
        "click>=8.1,<9",
    ],
    entry_points={"plinth.plugins": ["stock = plinth_stock"]},
)
