"""National figures without pooling data: each installation publishes its own suppressed
yearly figures as a document signed with its own key (`publish`, `document`, `signing`);
the national rapporteur verifies each and adds them up (`combine`). No record and no true
small count leaves an installation.

The command line is `statistics.cli`: `trajectory statistics publish --year Y --out FILE`,
`trajectory statistics combine FILES...` and `trajectory statistics key`.
"""
