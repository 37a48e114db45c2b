"""The portal: departments, agents and supervisors work here; the Prefect UI is for admins."""
