"""Reading captures from disk: the loading pass (scan), merging scopes, re-reading
profiles, worker pools, the marshal pre-flight.  No Qt."""
