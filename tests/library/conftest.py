# The API clients of tests/api (token-authenticated, per user) for the library's API tests.
from tests.api.conftest import _api_rate, api_for, member_api, owner_api  # noqa: F401
