from setuptools import find_packages, setup

setup(
    name="zoo",
    version="0.1.0",
    description="A Keras 3 model zoo of recurrent networks for NLP",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    # recipes/ is configuration, not code: `zoo train <name>` reads ./recipes/<name>.py, else the
    # recipes/ folder next to the zoo package (a checkout or an editable install).
    packages=find_packages(include=["zoo", "zoo.*"]),
    install_requires=[
        "tensorflow==2.21.*",
        "keras>=3.10",
        "keras-tuner>=1.4.7",
        "scikit-learn>=1.3",
        "tensorflow-datasets>=4.9",
        "pyarrow>=14",
        "matplotlib>=3.7",
        "tensorboard>=2.16",
        "sacrebleu>=2.4",
    ],
    extras_require={"test": ["pytest>=8"]},
    entry_points={"console_scripts": ["zoo=zoo.cli:main"]},
)
