"""The nodes of the Lab graph: planning, then five agents, one per stage."""
