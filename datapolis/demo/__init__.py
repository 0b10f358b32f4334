"""The demo city: a synthetic Linyi whose departments run real, realistically dirty databases.

`build_demo` writes the department systems, files and truth; `seed_registry` creates the
organisation tree and demo logins in the registry. Nothing in the product imports this package.
"""

from datapolis.demo.build import build_demo
from datapolis.demo.city import CITY, DemoLogin, seed_registry
from datapolis.demo.dirt import DirtRates
from datapolis.demo.manifest import Manifest, SystemInfo

__all__ = ["CITY", "DemoLogin", "DirtRates", "Manifest", "SystemInfo", "build_demo",
           "seed_registry"]
