"""A broken store as the function meets it: a fault-injecting proxy, and what callers and traces get."""
