from tests.api.conftest import world  # noqa: F401 - the two tenants, by name
