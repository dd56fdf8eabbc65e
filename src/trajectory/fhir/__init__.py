"""FHIR R4 for the care around her: her record as a Bundle (`record`), her file's access
log as AuditEvents (`audit`), the codes and identifiers both use (`codes`)."""
