"""plinth-stock: SKU catalog, locations, a stock ledger and reservations."""

from setuptools import find_packages, setup

setup(
    name="plinth-stock",
    version="0.1.0",
    description="Inventory for Plinth: items, locations, ledger, reservations",
    python_requires=">=3.11",
    packages=find_packages(exclude=["*.tests", "*.tests.*"]),
    package_data={"plinth_stock": ["migrations/versions/*.py", "templates/admin/*.jinja2"]},
    zip_safe=False,
    install_requires=[
        "plinth>=0.1,<0.2",
        "click>=8.1,<9",
    ],
    entry_points={"plinth.plugins": ["stock = plinth_stock"]},
)
