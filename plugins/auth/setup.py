"""plinth-auth: users, groups and API tokens for Plinth."""

from setuptools import find_packages, setup

setup(
    name="plinth-auth",
    version="0.1.0",
    description="Users, groups, API tokens and login protection for Plinth",
    python_requires=">=3.11",
    packages=find_packages(exclude=["*.tests", "*.tests.*"]),
    package_data={"plinth_auth": ["common-passwords.txt", "migrations/versions/*.py"]},
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
