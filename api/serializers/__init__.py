"""Request and response shapes of the API (they are also the OpenAPI schema), by resource group."""
