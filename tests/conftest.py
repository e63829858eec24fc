pytest_plugins = ["tests.objectstores", "tests.cluster"]
