"""The API tests' two-tenant world, reused by the cross-cutting security tests."""

from tests.api.conftest import as_role, world  # noqa: F401
