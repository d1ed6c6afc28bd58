"""plinth-example: the smallest useful Plinth plugin, used by the tests.

It is installed and enabled exactly as a third-party plugin would be, which
proves that a plugin needs no change to the core.
"""

from setuptools import find_packages, setup

setup(
    name="plinth-example",
    version="1.2.3",
    description="An example Plinth plugin (tests only)",
    python_requires=">=3.11",
    packages=find_packages(),
    install_requires=["plinth>=0.1,<0.2"],
    entry_points={"plinth.plugins": ["example = plinth_example"]},
)
