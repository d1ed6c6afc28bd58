"""plinth-auth: users, groups and API tokens for Plinth."""

from setuptools import find_namespace_packages, setup

setup(
    name="plinth-auth",
    version="0.1.0",
    description="Users, groups, API tokens and login protection for Plinth",
    python_requires=">=3.11",
    # Namespace packages: the migrations' version folder is a package too, so
    # that a wheel carries it.
    packages=find_namespace_packages(
        include=["plinth_auth", "plinth_auth.*"], exclude=["*.tests", "*.tests.*", "*.__pycache__"]
    ),
    package_data={"plinth_auth": ["common-passwords.txt"]},
    zip_safe=False,
    install_requires=[
        "plinth>=0.1,<0.2",
        "argon2-cffi>=23.1,<26",
        "limits>=3.13,<6",
        "redis>=5.0,<9",
    ],
    entry_points={
        "plinth.plugins": ["auth = plinth_auth"],
        "pytest11": ["plinth_auth = plinth_auth.testing"],
    },
)
