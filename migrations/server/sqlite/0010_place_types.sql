-- Central server schema, version 10: a venue's place type (场所类型) from the deployment's list
-- (`--place-types`), under its category. Venues made before keep none.
ALTER TABLE venues ADD COLUMN place_type TEXT;
