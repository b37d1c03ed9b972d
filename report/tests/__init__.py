"""The report package's unit tests (Python's unittest): `python3 -m unittest discover -s report/tests -t .`
from the top of the tree, as `make test` runs them."""
