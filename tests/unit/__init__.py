"""Unit tests: the function's modules and localdev, with the store played by ``responses`` or a fake."""
