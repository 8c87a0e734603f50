"""Who is who: processes, mount namespaces and cgroups turned into containers."""
