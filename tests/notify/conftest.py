from tests.api.conftest import world  # noqa: F401 - the API tests' two-tenant world, by name
