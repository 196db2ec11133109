package job

import _ "embed"

// SchemaJSON is the JSON Schema (draft 2020-12) of letter/v1, the file
// letter-v1.schema.json. It describes the shape Decode accepts
// (additionalProperties is false everywhere) and the simpler rules;
// Validate also checks what a schema cannot: calendar dates, BCP 47
// tags, byte limits, font coverage and the images themselves.
//
//go:embed letter-v1.schema.json
var SchemaJSON []byte
