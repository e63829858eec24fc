pytest_plugins = ["tests.objectstores"]
